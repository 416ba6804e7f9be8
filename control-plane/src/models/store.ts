/**
 * The model store: models addressed by the sha256 of their ONNX bytes, each a directory
 * `<dir>/<id>/` holding `model.onnx` and `card.json`, the layout the trainer publishes into (a model a
 * training job wrote is in the store at once). The S3 backing (s3-store.ts) keeps this as its cache.
 */
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelCard, ModelSummary } from "@mevlab/kernel-helpers";

export const MODEL_FILE = "model.onnx";
export const CARD_FILE = "card.json";
/** What the trainer and the store stage a model in before the rename; never listed. */
const PARTIAL_PREFIX = ".partial-";

export const MODEL_ID = /^[0-9a-f]{64}$/;

/** A model's bytes as stored: not hashed again here (an agent checks them against the id). */
export interface ModelFile {
  stream: ReadStream;
  bytes: number;
}

export interface ModelStore {
  /** The card of a stored model; undefined when there is none with this id. */
  card(id: string): Promise<ModelCard | undefined>;
  /** The model's bytes as stored; undefined when there is none with this id. */
  open(id: string): Promise<ModelFile | undefined>;
  /**
   * Stores a model, whole or not at all. false when the store held this id already: the stored
   * card stays as it is.
   */
  put(id: string, onnx: Uint8Array, card: ModelCard): Promise<boolean>;
  /** Every model, newest first. */
  list(): Promise<ModelSummary[]>;
  close(): Promise<void>;
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

/** What `GET /api/models` shows of a card. */
export function summary(card: ModelCard, bytes: number, storedAt: Date): ModelSummary {
  const metrics = card.metrics;
  return {
    id: card.id,
    module: card.module ?? "",
    model: card.model,
    created_at: card.created_at ?? storedAt.toISOString(),
    bytes,
    features: card.features ?? [],
    ...(metrics ? { metrics } : {}),
  };
}

export const newestFirst = (a: ModelSummary, b: ModelSummary): number =>
  a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id.localeCompare(b.id);

async function writeSynced(path: string, data: Uint8Array | string): Promise<void> {
  const file = await open(path, "wx", 0o644);
  try {
    await writeFile(file, data);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The store in a directory (`<data dir>/models`). */
export class LocalModelStore implements ModelStore {
  /** Summaries by id: a model's files never change, so each card is read once. */
  private readonly summaries = new Map<string, ModelSummary>();

  constructor(
    readonly dir: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async card(id: string): Promise<ModelCard | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, id, CARD_FILE), "utf8")) as ModelCard;
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  }

  async open(id: string): Promise<ModelFile | undefined> {
    const path = join(this.dir, id, MODEL_FILE);
    try {
      const { size } = await stat(path);
      return { stream: createReadStream(path), bytes: size };
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  }

  async has(id: string): Promise<boolean> {
    return stat(join(this.dir, id)).then(
      () => true,
      (err: unknown) => (missing(err) ? false : Promise.reject(err)),
    );
  }

  /**
   * As the trainer publishes (mevlab/train/publish.py): both files written and fsynced in a
   * `.partial-*` directory beside the final one, which is then renamed into place.
   */
  async put(id: string, onnx: Uint8Array, card: ModelCard): Promise<boolean> {
    if (await this.has(id)) return false;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const staging = await mkdtemp(join(this.dir, PARTIAL_PREFIX));
    try {
      await writeSynced(join(staging, MODEL_FILE), onnx);
      await writeSynced(join(staging, CARD_FILE), `${JSON.stringify(card, null, 2)}\n`);
      try {
        await rename(staging, join(this.dir, id));
      } catch (err) {
        if (await this.has(id)) return false; // the same model, stored meanwhile by another upload or run
        throw err;
      }
      await syncDir(this.dir);
      return true;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Removes a model (the S3 store's undo when its upload fails). */
  async remove(id: string): Promise<void> {
    this.summaries.delete(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
  }

  async list(): Promise<ModelSummary[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => MODEL_ID.test(n));
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
    const present = new Set(names);
    for (const id of this.summaries.keys()) if (!present.has(id)) this.summaries.delete(id);
    const found = await Promise.all(names.map((id) => this.summaryOf(id)));
    return found.filter((s): s is ModelSummary => s !== undefined).sort(newestFirst);
  }

  /** A directory without both files, or with a card that is not JSON, is no model: left out (and logged). */
  private async summaryOf(id: string): Promise<ModelSummary | undefined> {
    const known = this.summaries.get(id);
    if (known) return known;
    try {
      const card = await this.card(id);
      const file = await stat(join(this.dir, id, MODEL_FILE));
      if (!card) return undefined;
      const s = summary({ ...card, id }, file.size, file.mtime);
      this.summaries.set(id, s);
      return s;
    } catch (err) {
      if (!missing(err) && !(err instanceof SyntaxError)) throw err;
      this.log(`models: ${join(this.dir, id)} is not listed: ${(err as Error).message}`);
      return undefined;
    }
  }

  async close(): Promise<void> {}
}
