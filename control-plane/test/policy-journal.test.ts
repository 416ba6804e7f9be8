// Policy journals (one per module): a promotion torn by a crash is cut off at the next start (it did
// not happen, and its version is issued again); a bad line before the last refuses with file:line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module } from "@mevlab/proto";
import { PolicyStore } from "../src/policy/store";

test("regression: a torn last policy line no longer stops the start; it is cut off and the file named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mevlab-policies-"));
  const first = new PolicyStore(dir);
  first.next(Module.mev, { evMin: 0.001 }, "ops", "tighter");
  first.next(Module.mev, { throttlePct: 30 }, "ops", "throttle");
  await first.close();
  const file = join(dir, "mev.jsonl");
  const whole = readFileSync(file, "utf8");
  appendFileSync(file, '{"schemaVersion":1,"module":"mev","version":"3","evMin":0.0');
  const logged: string[] = [];
  const second = new PolicyStore(dir, { log: (l) => logged.push(l) });
  assert.equal(second.current(Module.mev).version, 2n);
  assert.equal(second.current(Module.mev).throttlePct, 30);
  assert.equal(readFileSync(file, "utf8"), whole);
  assert.match(logged.join("\n"), new RegExp(`${file}:3: dropped a torn last line \\(\\d+ bytes, no newline\\)`));
  assert.equal(second.next(Module.mev, { kill: true }, "ops", "stop").version, 3n, "the torn version is issued again");
  await second.close();
  assert.equal(new PolicyStore(dir).current(Module.mev).kill, true, "and the line after the repair reads back");

  const lines = readFileSync(file, "utf8").trimEnd().split("\n");
  writeFileSync(file, [lines[0], "garbage", ...lines.slice(1)].join("\n") + "\n");
  assert.throws(() => new PolicyStore(dir), { message: `${file}:2: not valid JSON (only the last line may be torn)` });
});
