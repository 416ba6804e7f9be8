export * from "./arrow";
export * from "./clickhouse";
export * from "./progress";
export { initCodecs, lz4FrameDecompress, zstdFrameDecompress } from "./codecs";
export * from "./duck";
/** The apache-arrow the helpers build their tables with (one version in the tree): `arrow.tableFromArrays`, … */
export * as arrow from "apache-arrow";
export * from "./streams";
export * from "./slice";
export * from "./export";
export * from "./charts";
