import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentState } from "@mevlab/proto";
import { StateFile, StateFileInUseError, initialRuntime } from "../src";

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

test("a state file is held by one agent at a time; a lock left by an ended process is taken over", () => {
  const dir = mkdtempSync(join(tmpdir(), "mevlab-state-"));
  const path = join(dir, "mev-1.json");
  const first = new StateFile(path);
  first.lock();
  assert.equal(readFileSync(`${path}.lock`, "utf8").trim(), String(process.pid));
  assert.throws(
    () => new StateFile(path).lock(),
    (err: Error) =>
      err instanceof StateFileInUseError &&
      err.message.includes(`in use by process ${process.pid}`) &&
      err.message.includes("--agent-id"),
  );
  // An agent with another id in the same data directory is not affected.
  const other = new StateFile(join(dir, "mev-2.json"));
  other.lock();
  other.close();
  first.close();
  assert.equal(existsSync(`${path}.lock`), false, "the lock is given back on close");
  const again = new StateFile(path);
  again.lock();
  again.close();
  // A run killed with SIGKILL leaves its lock behind, with the pid of a process that has ended.
  const ended = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  writeFileSync(`${path}.lock`, `${ended.stdout}\n`);
  const restarted = new StateFile(path);
  restarted.lock();
  assert.equal(readFileSync(`${path}.lock`, "utf8").trim(), String(process.pid));
  restarted.close();
});
