// The agent's state (runtime, the ids of the commands it took in) is its operator's alone: it was
// world-readable (0644 under a 0755 directory).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateFile, initialRuntime } from "../src";

const mode = (path: string): number => statSync(path).mode & 0o777;

test("the state directory is created 0700 and its files 0600; an older world-readable journal is tightened", () => {
  const root = mkdtempSync(join(tmpdir(), "mevlab-state-mode-"));
  const path = join(root, "agents", "mev-1.json");
  const file = new StateFile(path);
  file.lock();
  assert.equal(mode(join(root, "agents")), 0o700);
  assert.equal(mode(`${path}.lock`), 0o600);
  file.record("r-1", initialRuntime(false), () => ["r-1"]);
  assert.equal(mode(path), 0o600);
  file.close();

  const old = join(root, "arbitrage-1.json");
  writeFileSync(old, "");
  chmodSync(old, 0o644);
  new StateFile(old).load();
  assert.equal(mode(old), 0o600);
});
