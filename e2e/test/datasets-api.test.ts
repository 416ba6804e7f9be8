// The control plane's dataset jobs and curated queries: POST /api/datasets/scrape (the blueprint's body)
// runs the helper library's export as a job, pushed on the WS at every change; GET / cancel; a job
// interrupted by a control-plane restart runs again; bad bodies are 4xx naming the field; the curated
// query proxy runs named queries only.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { LocalBus, verifyDataset } from "@mevlab/kernel-helpers";
import { Stream, type Job } from "@mevlab/proto";
import { RealtimeProbe } from "../src/probe";
import { startS3Proxy } from "../src/s3proxy";
import { login, waitFor } from "../src/stack";
import { writeSyntheticArbStore } from "../src/synthetic";

const T0 = Date.parse("2026-11-20T00:00:00Z");
const HOUR = 3_600_000;
const ROWS = 1_000_000; // over 4 hours

describe("dataset jobs and curated queries", { timeout: 300_000 }, () => {
  let dataDir: string;
  let bus: LocalBus;
  let cp: ControlPlane;
  let admin = "";
  let viewer = "";
  const exportRoot = () => join(dataDir, "exports");

  const start = () => startControlPlane({ dataDir, bus, port: 0, sink: false, log: () => undefined });
  const signIn = (username: string, password: string) => login(cp.url, username, password);
  const call = async (
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    opts: { token?: string; csrf?: boolean } = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const headers: Record<string, string> = {};
    const token = opts.token ?? admin;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.csrf ?? true) headers["X-Requested-With"] = "mevlab";
    const res = await fetch(`${cp.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const jobOf = async (id: string) => (await call("GET", `/api/datasets/jobs/${id}`)).json;
  const finished = (id: string, timeoutMs = 120_000) =>
    waitFor(
      `job ${id} finished`,
      async () => {
        const j = await jobOf(id);
        return ["succeeded", "failed", "cancelled"].includes(j.state as string) ? j : undefined;
      },
      timeoutMs,
    );

  /** Clean-up: a job a failed test left queued or running is cancelled, so it does not load the next. */
  const cancelUnfinished = async (...jobIds: Array<string | undefined>) => {
    for (const id of jobIds) {
      if (!id) continue;
      const state = (await jobOf(id).catch(() => ({}) as Record<string, unknown>)).state;
      if (state === "queued" || state === "running") {
        await call("POST", `/api/datasets/jobs/${id}/cancel`, {}).catch(() => undefined);
        await finished(id, 30_000).catch(() => undefined);
      }
    }
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mevlab-jobs-"));
    await writeSyntheticArbStore(join(dataDir, "events"), ROWS, T0, 4);
    bus = new LocalBus();
    cp = await start();
    await cp.users.add("admin", "admin-password", "admin");
    await cp.users.add("viewer", "viewer-password", "viewer");
    admin = await signIn("admin", "admin-password");
    viewer = await signIn("viewer", "viewer-password");
  });
  after(async () => {
    await cp?.close();
    await bus?.close();
  });

  it("a scrape runs as a job, its changes arrive on the WS, and its manifest matches the files", async () => {
    const probe = new RealtimeProbe(cp.url, admin);
    let id: string | undefined;
    try {
      await probe.subscribe({ streams: [Stream.job] });
      const body = {
        start: "2026-11-20T01:00:00Z",
        end: "2026-11-20T03:00:00Z",
        types: ["arb", "mev"],
        dex: ["Meteora"],
        format: "parquet",
        compress: "zstd",
        output: "ds-one",
      };
      const res = await call("POST", "/api/datasets/scrape", body);
      assert.equal(res.status, 202, JSON.stringify(res.json));
      id = res.json.job_id as string;
      assert.equal(res.json.output, join(exportRoot(), "ds-one"));
      const job = await finished(id);
      assert.equal(job.state, "succeeded", String(job.error));
      const manifest = job.manifest as { rows: number; files: Array<{ table: string; rows: number }> };
      // Two of the four synthetic route patterns touch Meteora; two hours of 250,000 rows; no mev rows.
      assert.deepEqual(
        manifest.files.map((f) => [f.table, f.rows]),
        [
          ["arb_opportunities", 250_000],
          ["mev_opportunities", 0],
        ],
      );
      assert.equal(job.rows, "250000");
      const v = await verifyDataset(job.output as string);
      assert.ok(v.ok);
      assert.equal(v.id, job.dataset_id);
      assert.deepEqual(job.params, {
        from: body.start,
        to: body.end,
        types: body.types,
        dex: body.dex,
        format: "parquet",
        compression: "zstd",
        output: "ds-one",
      });
      await waitFor(
        "job succeeded on the WS",
        () =>
          probe.events.some(
            (e) => e.payload.case === "job" && e.payload.value.id === id && e.payload.value.state === "succeeded",
          ),
        10_000,
      );
      // Changes of one job are coalesced to the latest for a client: it may not see "queued", but what it
      // sees moves forward and ends in the final state.
      const seen = probe.events
        .filter((e) => e.payload.case === "job" && e.payload.value.id === id)
        .map((e) => e.payload.value as Job);
      const order = ["queued", "running", "succeeded"];
      const ranks = seen.map((j) => order.indexOf(j.state));
      assert.ok(
        ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1])),
        seen.map((j) => j.state).join(" → "),
      );
      assert.equal(seen.at(-1)!.state, "succeeded");
      assert.equal(seen.at(-1)!.datasetId, job.dataset_id);
      const fractions = seen.map((j) => j.fraction);
      assert.ok(
        fractions.every((f, i) => i === 0 || f >= fractions[i - 1]),
        fractions.join(", "),
      );
    } finally {
      await probe.close();
      await cancelUnfinished(id);
    }
    const list = await call("GET", "/api/datasets/jobs", undefined, { token: viewer });
    assert.equal(list.status, 200);
    assert.ok((list.json.jobs as Array<{ id: string }>).some((j) => j.id === id));
  });

  it("cancel stops a running job and a queued one; nothing is left behind", async () => {
    const big = { start: T0, end: T0 + 4 * HOUR, types: ["arb"], format: "jsonl", compress: "gzip" };
    const a = await call("POST", "/api/datasets/scrape", { ...big, output: "big-a" });
    const b = await call("POST", "/api/datasets/scrape", { ...big, output: "big-b" });
    try {
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      const idA = a.json.job_id as string;
      const idB = b.json.job_id as string;
      await waitFor("job A running", async () => (await jobOf(idA)).state === "running", 30_000);
      assert.equal((await jobOf(idB)).state, "queued");
      const cb = await call("POST", `/api/datasets/jobs/${idB}/cancel`, {});
      assert.equal(cb.status, 202);
      const ca = await call("POST", `/api/datasets/jobs/${idA}/cancel`, {});
      assert.equal(ca.status, 202);
      const ja = await finished(idA);
      const jb = await finished(idB);
      assert.equal(ja.state, "cancelled");
      assert.equal(jb.state, "cancelled");
      assert.match(jb.error as string, /before it started/);
      const left = readdirSync(exportRoot()).filter((f) => f.includes("big-"));
      assert.deepEqual(left, [], "no dataset and no staging directory");
      const again = await call("POST", `/api/datasets/jobs/${idA}/cancel`, {});
      assert.equal(again.status, 409);
    } finally {
      await cancelUnfinished(a.json.job_id as string | undefined, b.json.job_id as string | undefined);
    }
  });

  it("a job interrupted by a control-plane restart runs again and completes", async () => {
    const res = await call("POST", "/api/datasets/scrape", {
      start: T0,
      end: T0 + 4 * HOUR,
      types: ["arb"],
      format: "jsonl",
      compress: "zstd",
      output: "survives-restart",
    });
    const id = res.json.job_id as string;
    try {
      await waitFor("running", async () => (await jobOf(id)).state === "running", 30_000);
      await cp.close();
      assert.ok(!existsSync(join(exportRoot(), "survives-restart")));
      cp = await start();
      admin = await signIn("admin", "admin-password");
      const job = await finished(id);
      assert.equal(job.state, "succeeded", String(job.error));
      assert.equal(job.rows, String(ROWS));
      assert.ok((await verifyDataset(job.output as string)).ok);
    } finally {
      await cancelUnfinished(id);
    }
  });

  it("a scrape to an S3 prefix listed in the export roots uploads the dataset (s3proxy)", async () => {
    const s3 = await startS3Proxy(["datasets"]);
    const saved = { ...process.env };
    let cp2: ControlPlane | undefined;
    try {
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AWS_REGION: s3.region,
      });
      const dir = mkdtempSync(join(tmpdir(), "mevlab-jobs-s3-"));
      await writeSyntheticArbStore(join(dir, "events"), 50_000, T0, 1);
      cp2 = await startControlPlane({
        dataDir: dir,
        bus,
        port: 0,
        sink: false,
        exportRoots: [join(dir, "exports"), "s3://datasets/jobs"],
        log: () => undefined,
      });
      const url = cp2.url;
      await cp2.users.add("admin", "admin-password", "admin");
      const token = await login(url, "admin", "admin-password");
      const post = (body: unknown) =>
        fetch(`${url}/api/datasets/scrape`, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "X-Requested-With": "mevlab",
            Authorization: `Bearer ${token}`,
          },
          body: JSON.stringify(body),
        });
      const body = { start: T0, end: T0 + HOUR, types: ["arb"], format: "jsonl", compress: "zstd" };
      const refused = await post({ ...body, output: "s3://datasets/elsewhere/x" });
      assert.equal(refused.status, 400);
      const res = await post({ ...body, output: "s3://datasets/jobs/run-1" });
      assert.equal(res.status, 202);
      const id = ((await res.json()) as { job_id: string }).job_id;
      const job = await waitFor(
        "S3 job finished",
        async () => {
          const j = (await (
            await fetch(`${url}/api/datasets/jobs/${id}`, { headers: { Authorization: `Bearer ${token}` } })
          ).json()) as Record<string, unknown>;
          return ["succeeded", "failed", "cancelled"].includes(j.state as string) ? j : undefined;
        },
        60_000,
      );
      assert.equal(job.state, "succeeded", String(job.error));
      assert.equal(job.output, "s3://datasets/jobs/run-1");
      assert.equal(job.rows, "50000");
      const v = await verifyDataset("s3://datasets/jobs/run-1");
      assert.ok(v.ok, JSON.stringify(v.files));
      assert.equal(v.id, job.dataset_id);
    } finally {
      await cp2?.close();
      await s3.stop();
      for (const k of ["AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it("bad scrape bodies and callers get a 4xx naming the problem; no job is created", async () => {
    const ok = { start: T0, end: T0 + HOUR, types: ["arb"], output: "never" };
    // A non-empty directory of its own (not test 1's dataset), which an export must not write into.
    mkdirSync(join(exportRoot(), "existing"), { recursive: true });
    writeFileSync(join(exportRoot(), "existing", "manifest.json"), "{}\n");
    const before = ((await call("GET", "/api/datasets/jobs")).json.jobs as unknown[]).length;
    const cases: Array<[string, unknown, number, RegExp, { token?: string; csrf?: boolean }?]> = [
      ["missing start", { ...ok, start: undefined }, 400, /missing field 'start'/],
      ["unknown field", { ...ok, sql: "x" }, 400, /unknown field 'sql'/],
      ["start as object", { ...ok, start: {} }, 400, /'start' must be/],
      ["end before start", { ...ok, end: T0 - HOUR }, 400, /^start: /],
      ["unknown type", { ...ok, types: ["swaps"] }, 400, /types: unknown type "swaps"/],
      ["format", { ...ok, format: "csv" }, 400, /format: 'format' must be one of parquet, jsonl/],
      ["compress", { ...ok, compress: "lz4" }, 400, /compress: 'compression' must be one of zstd, gzip, none/],
      ["dex on outcomes only", { ...ok, types: ["outcomes"], dex: ["orca"] }, 400, /dex: /],
      ["traversal", { ...ok, output: "../../etc" }, 400, /output: .*path traversal/],
      ["outside roots", { ...ok, output: "/tmp/elsewhere" }, 400, /output: .*outside the allowed export roots/],
      ["s3 not allowed", { ...ok, output: "s3://bucket/x" }, 400, /output: .*outside the allowed export roots/],
      ["existing dataset", { ...ok, output: "existing" }, 400, /not empty; exports never overwrite/],
      ["array body", [ok], 400, /JSON object/],
      ["viewer", ok, 403, /role 'viewer' may not datasets.scrape/, { token: viewer }],
      ["no token", ok, 401, /missing Authorization/, { token: "" }],
      ["no X-Requested-With", ok, 403, /X-Requested-With/, { csrf: false }],
    ];
    for (const [name, body, status, message, opts] of cases) {
      const res = await call("POST", "/api/datasets/scrape", body, opts);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.json)}`);
      const error = res.json.error as { message: string };
      assert.match(error.message, message, name);
    }
    assert.equal(((await call("GET", "/api/datasets/jobs")).json.jobs as unknown[]).length, before);
    assert.equal((await call("GET", "/api/datasets/jobs/job-nope")).status, 404);
    assert.equal((await call("GET", "/api/datasets/jobs", undefined, { token: "" })).status, 401);
    // Two jobs may not write the same place at once.
    const slow = { start: T0, end: T0 + 4 * HOUR, types: ["arb"], format: "jsonl", compress: "gzip", output: "twice" };
    const first = await call("POST", "/api/datasets/scrape", slow);
    try {
      const second = await call("POST", "/api/datasets/scrape", slow);
      assert.equal(first.status, 202);
      assert.equal(second.status, 409);
      assert.equal((await finished(first.json.job_id as string)).state, "succeeded");
    } finally {
      await cancelUnfinished(first.json.job_id as string | undefined);
    }
  });

  it("the curated query proxy runs named queries with typed parameters and refuses raw SQL", async () => {
    const q = (body: unknown, token?: string) => call("POST", "/api/clickhouse/query", body, { token });
    const res = await q({ name: "opportunities_by_hour", params: { from: T0, to: "2026-11-20T04:00:00Z" } }, viewer);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.source, "local");
    assert.deepEqual(
      (res.json.rows as Array<Record<string, unknown>>).map((r) => [r.hour_ms, r.module, r.opportunities]),
      [0, 1, 2, 3].map((h) => [T0 + h * HOUR, "arbitrage", ROWS / 4]),
    );
    const byDex = await q({ name: "opportunities_by_dex", params: { from: T0, to: T0 + 4 * HOUR, dex: "PUMPSWAP" } });
    assert.deepEqual(
      (byDex.json.rows as Array<Record<string, unknown>>).map((r) => [r.module, r.opportunities]),
      [
        ["arbitrage", ROWS / 2],
        ["mev", 0],
      ],
    );
    for (const name of ["landed_by_hour", "top_mev_pools", "recent_outcomes"]) {
      const r = await q({ name, params: name === "recent_outcomes" ? {} : { from: T0, to: T0 + HOUR } });
      assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.json)}`);
    }
    const list = await call("GET", "/api/clickhouse/queries", undefined, { token: viewer });
    assert.ok((list.json.queries as Array<{ name: string }>).some((x) => x.name === "top_mev_pools"));
    const bad: Array<[unknown, number, RegExp, string?]> = [
      [{ sql: "SELECT * FROM system.users" }, 400, /raw SQL is not accepted/],
      [{ query: "DROP TABLE arb_opportunities" }, 400, /raw SQL is not accepted/],
      [{ name: "drop_everything" }, 400, /unknown query "drop_everything"/],
      [
        { name: "top_mev_pools", params: { from: T0, to: T0 + HOUR, limit: 0 } },
        400,
        /params.limit must be an integer 1–1000/,
      ],
      [{ name: "top_mev_pools", params: { from: T0, to: T0 + HOUR, limit: "5; DROP" } }, 400, /params.limit/],
      [{ name: "top_mev_pools", params: { from: T0 } }, 400, /needs parameter 'to'/],
      [{ name: "top_mev_pools", params: { from: T0, to: T0 + HOUR, where: "1=1" } }, 400, /no parameter 'where'/],
      [{ name: "landed_by_hour", params: { from: T0, to: T0 + HOUR, module: "solana" } }, 400, /params.module/],
      [{ name: "landed_by_hour", params: { from: T0 + HOUR, to: T0 } }, 400, /from must be before/],
      [{ name: "opportunities_by_hour" }, 401, /missing Authorization/, ""],
    ];
    for (const [body, status, message, token] of bad) {
      const r = await q(body, token);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match((r.json.error as { message: string }).message, message, JSON.stringify(body));
    }
  });
});
