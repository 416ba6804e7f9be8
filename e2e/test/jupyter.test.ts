// The Python side: the extension installed from the wheel into the project venv, and the smoke
// notebook executed headless by nbclient with the tslab kernel against a running mevlab.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyDataset } from "@mevlab/kernel-helpers";
import { runNotebook, type NotebookOutput } from "../src/notebook";
import { VENV_BIN, embeddedStack, parquetParts, waitFor, type Stack } from "../src/stack";

let stack: Stack;

before(async () => {
  stack = await embeddedStack({ rate: 5 });
});

after(async () => {
  await stack?.stop();
});

test("jupyter labextension list shows @mevlab/extension enabled and OK, installed from the mevlab wheel", () => {
  const res = spawnSync(join(VENV_BIN, "jupyter"), ["labextension", "list"], { encoding: "utf8" });
  // eslint-disable-next-line no-control-regex -- strips the ANSI colours jupyter prints
  const out = (res.stdout + res.stderr).replace(/\u001b\[[0-9;]*m/g, "");
  assert.match(out, /@mevlab\/extension v0\.1\.0 enabled OK \(python, mevlab\)/, out);
  const pip = spawnSync(join(VENV_BIN, "python"), ["-m", "pip", "show", "-f", "mevlab"], { encoding: "utf8" });
  assert.match(pip.stdout, /share\/jupyter\/labextensions\/@mevlab\/extension\/package\.json/);
});

const textOf = (outputs: NotebookOutput[]) =>
  outputs
    .map((o) =>
      [o.text ?? [], o.data?.["text/html"] ?? []].map((t) => (Array.isArray(t) ? t.join("") : String(t))).join(""),
    )
    .join("\n");

test("notebooks/00-smoke.ipynb runs headless on the tslab kernel and shows the ack latency", () => {
  const text = textOf(
    runNotebook("00-smoke", {
      MEVLAB_URL: stack.url,
      MEVLAB_USER: stack.admin.username,
      MEVLAB_PASSWORD: stack.admin.password,
    }),
  );
  assert.match(text, /logged in to http:\/\/127\.0\.0\.1:\d+ as admin/);
  assert.match(text, /throttle mev to 30%: applied by mev-1, state throttled, throttle 30%/);
  const latency = Number(/ack latency: ([0-9.]+) ms/.exec(text)?.[1]);
  assert.ok(latency > 0 && latency < 10_000, `latency ${latency}`);
  assert.match(text, /<b>applied<\/b> in <span class="mevlab-latency">[0-9.]+<\/span> ms/);
});

test("notebooks/01-explore.ipynb slices, computes features in DuckDB-WASM, draws plotly charts and exports a dataset", async () => {
  // The sink writes the agents' events to the store every 5 s.
  await waitFor("events in the store", () => parquetParts(stack.dataDir, "arb_opportunities").length > 0, 30_000);
  await waitFor("mev events in the store", () => parquetParts(stack.dataDir, "mev_opportunities").length > 0, 30_000);
  const roots = mkdtempSync(join(tmpdir(), "mevlab-nb-exports-"));
  const outputs = runNotebook("01-explore", {
    MEVLAB_DATA_DIR: stack.dataDir,
    MEVLAB_EXPORT_ROOTS: roots,
    CLICKHOUSE_URL: "",
  });
  const text = textOf(outputs);
  assert.match(text, /source: local \(.*events\), last 24 h/);
  const arbRows = Number(/arb: (\d+) rows, mev: (\d+) rows/.exec(text)?.[1]);
  assert.ok(arbRows > 0, text);
  const minutes = Number(/features: (\d+) minutes of arb, (\d+) MEV DEXes/.exec(text)?.[1]);
  assert.ok(minutes > 0, text);
  assert.match(text, /<table class='mevlab-features'>/);
  const figures = outputs
    .map(
      (o) => o.data?.["application/vnd.plotly.v1+json"] as { data: Array<{ x: unknown[]; y: unknown[] }> } | undefined,
    )
    .filter((f): f is { data: Array<{ x: unknown[]; y: unknown[] }> } => f !== undefined);
  assert.equal(figures.length, 2, "two plotly figures");
  assert.equal(figures[0].data[0].x.length, minutes);
  assert.equal(
    (figures[0].data[0].y as number[]).reduce((a, b) => a + b, 0),
    arbRows,
    "the per-minute counts add up to the slice",
  );
  const id = /dataset (sha256:[0-9a-f]{64}) → (\S+)/.exec(text);
  assert.ok(id, text);
  const verified = await verifyDataset(id[2]);
  assert.ok(verified.ok);
  assert.equal(verified.id, id[1]);
  assert.ok(id[2].startsWith(roots));
  const arbFile = verified.manifest.files.find((f) => f.table === "arb_opportunities")!;
  assert.ok(arbFile.rows >= arbRows, `exported ${arbFile.rows} arb rows, sliced ${arbRows}`);
});
