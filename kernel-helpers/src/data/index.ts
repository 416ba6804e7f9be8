export * from "./arrow";
export { lz4FrameDecompress, zstdFrameDecompress } from "./codecs";
