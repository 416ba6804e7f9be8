// One entry per runtime, each resolvable the way tslab resolves (require through main/types, no
// `exports` map): @mevlab/kernel-helpers/client is browser-safe, bus and data are Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

/** What a fresh Node process gets from `require(entry)`: its export names and every module it loaded. */
function load(entry: string): { exports: string[]; loaded: string[] } {
  const script = `const m = require(${JSON.stringify(entry)});
    console.log(JSON.stringify({ exports: Object.keys(m), loaded: Object.keys(require.cache) }))`;
  const res = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as { exports: string[]; loaded: string[] };
}

test("each runtime's entry resolves through main/types, as tslab's Node10-style resolution needs", () => {
  for (const [entry, name] of [
    ["@mevlab/kernel-helpers/client", "ControlPlaneClient"],
    ["@mevlab/kernel-helpers/bus", "KafkaBus"],
    ["@mevlab/kernel-helpers/data", "slice"],
    ["@mevlab/kernel-helpers/train", "train"],
    ["@mevlab/kernel-helpers/evaluate", "evaluate"],
    ["@mevlab/kernel-helpers", "nodeTransport"],
  ] as const) {
    assert.ok(load(entry).exports.includes(name), `${entry} exports ${name}`);
  }
});

test("the client entry loads no Node runtime: no kafkajs, undici, ws, DuckDB or AWS SDK", () => {
  const { loaded } = load("@mevlab/kernel-helpers/client");
  const nodeOnly = loaded.filter((f) => /node_modules\/(kafkajs|undici|ws|@duckdb|@aws-sdk|@clickhouse)\//.test(f));
  assert.deepEqual(nodeOnly, []);
  assert.ok(
    loaded.some((f) => f.includes("/dist/src/client/")),
    "the client itself was loaded",
  );
});
