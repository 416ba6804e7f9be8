/**
 * The `metadata_props` of an ONNX file, read from its bytes: onnxruntime-node does not expose custom
 * metadata. A ModelProto is a protobuf message; field 14 is `repeated StringStringEntryProto
 * metadata_props` ({1: key, 2: value}). Only that field is decoded; the rest is skipped by wire type.
 */

const METADATA_PROPS = 14;

/** Thrown for bytes that are not a well-formed protobuf message. */
export class OnnxFormatError extends Error {
  override name = "OnnxFormatError";
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new OnnxFormatError("truncated varint");
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new OnnxFormatError("varint longer than 10 bytes");
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new OnnxFormatError("length past the end of the message");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new OnnxFormatError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.buf.length) throw new OnnxFormatError("fixed field past the end of the message");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

function entry(bytes: Uint8Array): [string, string] {
  const r = new Reader(bytes);
  let key = "";
  let value = "";
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    if ((field === 1 || field === 2) && tag % 8 === 2) {
      const s = utf8.decode(r.bytes());
      if (field === 1) key = s;
      else value = s;
    } else {
      r.skip(tag % 8);
    }
  }
  return [key, value];
}

/** Every metadata_props entry of an ONNX model; throws OnnxFormatError on malformed bytes. */
export function onnxMetadata(model: Uint8Array): Map<string, string> {
  const r = new Reader(model);
  const out = new Map<string, string>();
  while (!r.done) {
    const tag = r.varint();
    if (Math.floor(tag / 8) === METADATA_PROPS && tag % 8 === 2) {
      const [k, v] = entry(r.bytes());
      out.set(k, v);
    } else {
      r.skip(tag % 8);
    }
  }
  return out;
}

/** The `mevlab.feature_names` list of a trainer's model; undefined when absent or not a list of strings. */
export function onnxFeatureNames(model: Uint8Array): string[] | undefined {
  const raw = onnxMetadata(model).get("mevlab.feature_names");
  if (raw === undefined) return undefined;
  try {
    const names: unknown = JSON.parse(raw);
    return Array.isArray(names) && names.every((n) => typeof n === "string") ? names : undefined;
  } catch {
    return undefined;
  }
}
