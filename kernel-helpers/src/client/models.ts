import { DataError, describe } from "../errors";
import type { Transport } from "./transport";
import type { ModelCard, ModelUploadRequest, ModuleName } from "./wire";

/**
 * A model for the store: a file (the shape of train()'s ModelHandle: `onnxPath` and maybe its card)
 * or bytes in memory. A file without a card is sent with the `card.json` beside it, when there is one.
 */
export type ModelUpload =
  { onnxPath: string; card?: Record<string, unknown> } | { bytes: Uint8Array; card?: Record<string, unknown> };

export interface ModelUploadResult {
  /** sha256 (hex) of the bytes, as the control plane computed it. */
  id: string;
  /** The card as stored (when `created` is false, the one stored before). */
  card: ModelCard;
  /** false when the store held these bytes already. */
  created: boolean;
}

/** Bytes in base64: Buffer in Node, btoa in a browser. */
export function base64(bytes: Uint8Array): string {
  const B = (globalThis as { Buffer?: typeof Buffer }).Buffer;
  if (B) return B.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The body of `POST /api/models`; a file is read through the transport (Node's has files, a browser's not). */
export async function modelUploadBody(
  module: ModuleName,
  upload: ModelUpload,
  readFile: Transport["readFile"],
): Promise<ModelUploadRequest> {
  if ("bytes" in upload)
    return { module, onnx_base64: base64(upload.bytes), ...(upload.card ? { card: upload.card } : {}) };
  if (!readFile) {
    throw new DataError("uploadModel: this transport reads no files; pass the model's bytes ({ bytes })", {
      field: "onnxPath",
    });
  }
  const bytes = await readFile(upload.onnxPath);
  if (!bytes) throw new DataError(`uploadModel: no file ${upload.onnxPath}`, { field: "onnxPath" });
  const card = upload.card ?? (await cardBeside(upload.onnxPath, readFile));
  return { module, onnx_base64: base64(bytes), ...(card ? { card } : {}) };
}

/** The card.json in the model file's directory, if there is one. */
async function cardBeside(
  onnxPath: string,
  readFile: NonNullable<Transport["readFile"]>,
): Promise<Record<string, unknown> | undefined> {
  const path = onnxPath.replace(/[^/\\]*$/, "card.json");
  const bytes = await readFile(path);
  if (!bytes) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (err) {
    throw new DataError(`uploadModel: ${path} is not JSON: ${describe(err)}`, { field: "card", cause: err });
  }
}
