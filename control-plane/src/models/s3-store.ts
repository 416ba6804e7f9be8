/**
 * The model store backed by S3 (`MEVLAB_MODEL_STORE=s3://bucket/prefix`): objects
 * `<prefix>/<id>/model.onnx` and `<prefix>/<id>/card.json`, the card written last, so a model is in
 * the bucket once its card is. The local store is the cache: a model is served from there, fetched
 * into it on first use, and every upload lands in both.
 */
import { s3Client, type ModelCard, type ModelSummary, type S3Settings } from "@mevlab/kernel-helpers";
import { HttpError } from "../http/errors";
import {
  CARD_FILE,
  MODEL_FILE,
  MODEL_ID,
  newestFirst,
  summary,
  type LocalModelStore,
  type ModelFile,
  type ModelStore,
} from "./store";

type S3 = ReturnType<typeof s3Client>;

/** `s3://bucket[/prefix]`; anything else stops the start with a message. */
export function parseModelStoreUri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!m) throw new Error(`MEVLAB_MODEL_STORE must be s3://bucket/prefix, got '${uri}'`);
  return { bucket: m[1], prefix: (m[2] ?? "").replace(/\/+$/, "") };
}

/** No such object; a missing bucket is a failure of the store, not an unknown model. */
const notFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name !== "NoSuchBucket" && (e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404);
};

export class S3ModelStore implements ModelStore {
  /** Summaries of models only in the bucket, by id (a model never changes). */
  private readonly remote = new Map<string, ModelSummary>();

  private constructor(
    private readonly local: LocalModelStore,
    private readonly s3: S3,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  static open(local: LocalModelStore, uri: string, settings?: S3Settings): S3ModelStore {
    const { bucket, prefix } = parseModelStoreUri(uri);
    return new S3ModelStore(local, s3Client(settings), bucket, prefix);
  }

  private key(id: string, file: string): string {
    return this.prefix ? `${this.prefix}/${id}/${file}` : `${id}/${file}`;
  }

  /** S3's failures as the API answers them: 503, naming the object. */
  private failed(err: unknown, key: string): HttpError {
    const e = err as { name?: string; message?: string };
    return new HttpError(
      503,
      "model_store_unavailable",
      `the model store's S3 bucket failed: ${e?.name ?? "error"} at s3://${this.bucket}/${key}: ${e?.message ?? String(err)}`,
    );
  }

  private async getObject(key: string): Promise<Uint8Array | undefined> {
    try {
      const res = await this.s3.client.send(new this.s3.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await res.Body!.transformToByteArray();
    } catch (err) {
      if (notFound(err)) return undefined;
      throw this.failed(err, key);
    }
  }

  private async putObject(key: string, body: Uint8Array | string, type: string): Promise<void> {
    try {
      await this.s3.client.send(
        new this.s3.sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: type }),
      );
    } catch (err) {
      throw this.failed(err, key);
    }
  }

  private async remoteCard(id: string): Promise<ModelCard | undefined> {
    const bytes = await this.getObject(this.key(id, CARD_FILE));
    return bytes && (JSON.parse(Buffer.from(bytes).toString("utf8")) as ModelCard);
  }

  /** Copies a model of the bucket into the local cache; false when the bucket has none with this id. */
  private async fetch(id: string): Promise<boolean> {
    const card = await this.remoteCard(id);
    if (!card) return false;
    const onnx = await this.getObject(this.key(id, MODEL_FILE));
    if (!onnx) return false;
    await this.local.put(id, onnx, card);
    return true;
  }

  /** The model's file, then its card: a failure leaves no card, and the file is removed again. */
  private async upload(id: string, onnx: Uint8Array, card: ModelCard): Promise<void> {
    const model = this.key(id, MODEL_FILE);
    await this.putObject(model, onnx, "application/octet-stream");
    try {
      await this.putObject(this.key(id, CARD_FILE), `${JSON.stringify(card, null, 2)}\n`, "application/json");
    } catch (err) {
      await this.s3.client
        .send(new this.s3.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: model }))
        .catch(() => undefined); // best effort: without its card the file is not a model of the store
      throw err;
    }
  }

  async card(id: string): Promise<ModelCard | undefined> {
    return (await this.local.card(id)) ?? ((await this.fetch(id)) ? this.local.card(id) : undefined);
  }

  async open(id: string): Promise<ModelFile | undefined> {
    return (await this.local.open(id)) ?? ((await this.fetch(id)) ? this.local.open(id) : undefined);
  }

  /**
   * New bytes go into the local store and then the bucket; when the bucket fails, the local copy is
   * removed again. A model only here (a training job's) is copied into the bucket; one only there is
   * fetched, and its card kept.
   */
  async put(id: string, onnx: Uint8Array, card: ModelCard): Promise<boolean> {
    if (await this.local.has(id)) {
      if (!(await this.remoteCard(id))) await this.upload(id, onnx, (await this.local.card(id)) ?? card);
      return false;
    }
    if (await this.fetch(id)) return false;
    if (!(await this.local.put(id, onnx, card))) return false;
    try {
      await this.upload(id, onnx, card);
    } catch (err) {
      await this.local.remove(id);
      throw err;
    }
    return true;
  }

  async list(): Promise<ModelSummary[]> {
    const local = await this.local.list();
    const here = new Set(local.map((s) => s.id));
    const objects = await this.listObjects();
    const only = [...objects].filter(([id]) => !here.has(id));
    const remote = await Promise.all(only.map(([id, o]) => this.remoteSummary(id, o.bytes, o.modified)));
    return [...local, ...remote.filter((s): s is ModelSummary => s !== undefined)].sort(newestFirst);
  }

  private async remoteSummary(id: string, bytes: number, modified: Date): Promise<ModelSummary | undefined> {
    const known = this.remote.get(id);
    if (known) return known;
    const card = await this.remoteCard(id);
    if (!card) return undefined;
    const s = summary({ ...card, id }, bytes, modified);
    this.remote.set(id, s);
    return s;
  }

  /** The ids in the bucket with both objects: the model file's size and time. */
  private async listObjects(): Promise<Map<string, { bytes: number; modified: Date }>> {
    const files = new Map<string, { bytes: number; modified: Date }>();
    const cards = new Set<string>();
    const base = this.prefix ? `${this.prefix}/` : "";
    let token: string | undefined;
    do {
      const page = await this.listPage(base, token);
      for (const o of page.Contents ?? []) {
        const [id, file, ...rest] = (o.Key ?? "").slice(base.length).split("/");
        if (rest.length > 0 || !MODEL_ID.test(id)) continue;
        if (file === CARD_FILE) cards.add(id);
        if (file === MODEL_FILE) files.set(id, { bytes: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    for (const id of files.keys()) if (!cards.has(id)) files.delete(id);
    return files;
  }

  private async listPage(prefix: string, token: string | undefined) {
    try {
      return await this.s3.client.send(
        new this.s3.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
    } catch (err) {
      throw this.failed(err, prefix);
    }
  }

  async close(): Promise<void> {
    this.s3.client.destroy();
  }
}
