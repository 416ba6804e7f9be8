import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentState } from "@mevlab/proto";
import { StateFile, initialRuntime } from "../src";

test("the state journal brings back the runtime and every request id, and survives a torn last line", () => {
  const path = join(mkdtempSync(join(tmpdir(), "mevlab-state-")), "mev-1.json");
  const file = new StateFile(path);
  const rt = initialRuntime(false);
  const seen: string[] = [];
  for (let i = 0; i < 12; i++) {
    seen.push(`r-${i}`);
    rt.throttlePct = i;
    rt.commandsApplied += 1n;
    file.record(`r-${i}`, rt, () => seen);
  }
  rt.state = AgentState.killed;
  seen.push("r-kill");
  file.record("r-kill", rt, () => seen);
  file.close();
  appendFileSync(path, '{"id": "r-torn", "runt');
  const back = new StateFile(path).load();
  assert.ok(back);
  assert.equal(back.runtime.state, AgentState.killed);
  assert.equal(back.runtime.throttlePct, 11);
  assert.equal(back.runtime.commandsApplied, 12n);
  assert.deepEqual(back.seen, seen);
  assert.equal(readFileSync(path, "utf8").split("\n").filter(Boolean).length, 14, "snapshot + 12 entries + torn line");
});
