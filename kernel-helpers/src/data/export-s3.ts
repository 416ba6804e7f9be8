/** S3 outputs: the client settings, and one export's prefix written in parts and removed again on failure. */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { DataError } from "../errors";
import type { OutputTarget } from "./export-output";

/** Where S3 outputs go; unset fields come from the usual AWS environment variables. */
export interface S3Settings {
  /** e.g. `http://127.0.0.1:9000`; default `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, else AWS. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (default on when an endpoint is given). */
  forcePathStyle?: boolean;
}

const MIN_PART = 5 * 1024 * 1024;

type S3Module = typeof import("@aws-sdk/client-s3");

/**
 * An S3 client for these settings (unset ones from the AWS environment), and the SDK it comes from,
 * whose commands it sends. The SDK is loaded on first use.
 */
export function s3Client(s: S3Settings = {}): { sdk: S3Module; client: import("@aws-sdk/client-s3").S3Client } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require("@aws-sdk/client-s3") as S3Module;
  const endpoint = s.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const client = new sdk.S3Client({
    endpoint,
    region: s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    forcePathStyle: s.forcePathStyle ?? Boolean(endpoint),
    // The SDK's default CRC32 checksum headers are refused by many S3-compatible servers; the
    // manifest's (or the model id's) sha256 is the integrity check that matters here.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    credentials:
      s.accessKeyId && s.secretAccessKey
        ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }
        : undefined,
  });
  return { sdk, client };
}

/** One export's S3 prefix: refuses a non-empty one, uploads files in parts, removes what it wrote on failure. */
export class S3Target {
  private readonly written: string[] = [];

  private constructor(
    private readonly sdk: S3Module,
    private readonly client: import("@aws-sdk/client-s3").S3Client,
    private readonly target: Extract<OutputTarget, { kind: "s3" }>,
    private readonly partSize: number,
  ) {}

  static async open(
    target: Extract<OutputTarget, { kind: "s3" }>,
    options: { s3?: S3Settings; partSizeBytes?: number },
    mustBeEmpty = true,
  ): Promise<S3Target> {
    const { sdk, client } = s3Client(options.s3);
    const partSize = options.partSizeBytes ?? 8 * 1024 * 1024;
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART) {
      throw new DataError(`'partSizeBytes' must be an integer ≥ ${MIN_PART} (S3's minimum part size)`, {
        field: "partSizeBytes",
      });
    }
    const t = new S3Target(sdk, client, target, partSize);
    if (mustBeEmpty) {
      try {
        const listed = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${target.prefix}/`, MaxKeys: 1 }),
        );
        if ((listed.KeyCount ?? 0) > 0) {
          throw new DataError(`'output' ${target.uri} already holds objects; exports never overwrite`, {
            field: "output",
          });
        }
      } catch (err) {
        client.destroy();
        throw err instanceof DataError ? err : s3Error(err, target.uri);
      }
    }
    return t;
  }

  private key(name: string): string {
    return `${this.target.prefix}/${name}`;
  }

  async upload(
    name: string,
    file: string,
    bytes: number,
    signal: AbortSignal | undefined,
    onSent: (bytes: number) => void,
  ): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Upload } = require("@aws-sdk/lib-storage") as typeof import("@aws-sdk/lib-storage");
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.target.bucket, Key: this.key(name), Body: createReadStream(file), ContentLength: bytes },
      partSize: this.partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    upload.on("httpUploadProgress", (p) => p.loaded !== undefined && onSent(p.loaded));
    const abort = () => void upload.abort();
    signal?.addEventListener("abort", abort, { once: true });
    this.written.push(this.key(name));
    try {
      await upload.done();
    } catch (err) {
      if (signal?.aborted) throw new DataError("export cancelled", { cause: err });
      throw s3Error(err, `s3://${this.target.bucket}/${this.key(name)}`);
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  async put(name: string, body: Uint8Array): Promise<void> {
    this.written.push(this.key(name));
    try {
      await this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket: this.target.bucket,
          Key: this.key(name),
          Body: body,
          ContentType: "application/json",
        }),
      );
    } catch (err) {
      throw s3Error(err, `s3://${this.target.bucket}/${this.key(name)}`);
    }
  }

  async get(name: string): Promise<Readable> {
    try {
      const res = await this.client.send(
        new this.sdk.GetObjectCommand({ Bucket: this.target.bucket, Key: this.key(name) }),
      );
      return res.Body as Readable;
    } catch (err) {
      throw s3Error(err, `s3://${this.target.bucket}/${this.key(name)}`);
    }
  }

  /** Best effort: what this export wrote goes away, so no half dataset stays behind. */
  async removeWritten(): Promise<void> {
    if (this.written.length === 0) return;
    await this.client
      .send(
        new this.sdk.DeleteObjectsCommand({
          Bucket: this.target.bucket,
          Delete: { Objects: this.written.map((Key) => ({ Key })) },
        }),
      )
      .catch(() => undefined);
  }

  close(): void {
    this.client.destroy();
  }
}

function s3Error(err: unknown, where: string): DataError {
  const e = err as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = e?.Code ?? e?.name ?? "error";
  const status = e?.$metadata?.httpStatusCode;
  return new DataError(`S3 ${code}${status ? ` (HTTP ${status})` : ""} at ${where}: ${e?.message ?? String(err)}`, {
    field: "output",
    cause: err,
  });
}
