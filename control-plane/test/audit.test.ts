// The audit log: one JSON line per mutation, each carrying the SHA-256 of itself without the hash and
// the hash of the line before, so an edited, removed or reordered line breaks the chain; a log opened
// again continues the chain where it stopped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "../src/audit/log";

/** Checks the chain as an auditor would, from the file alone; returns the index of the first bad line. */
function firstBroken(text: string): number | undefined {
  let prev = "0".repeat(64);
  const lines = text.trimEnd().split("\n");
  for (let i = 0; i < lines.length; i++) {
    const { hash, ...body } = JSON.parse(lines[i]) as { hash: string; prev: string };
    const expected = createHash("sha256").update(JSON.stringify(body)).digest("hex");
    if (hash !== expected || body.prev !== prev) return i;
    prev = hash;
  }
  return undefined;
}

test("every line hashes itself and the line before; a reopened log continues the chain", () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-audit-")), "audit", "audit.jsonl");
  const first = new AuditLog(file);
  first.write({
    user: "ops",
    role: "admin",
    action: "control.kill",
    target: "mev",
    outcome: "accepted",
    request_id: "r1",
    ip: "127.0.0.1",
  });
  first.write({
    user: "viewer",
    role: "viewer",
    action: "control",
    target: "/api/control/module/mev:kill",
    outcome: "denied",
    reason: "role 'viewer' may not \"control\"\n",
    ip: "::1",
  });
  first.close();
  const again = new AuditLog(file);
  again.write({ user: "ops", role: "admin", action: "policy.promote", target: "arbitrage", outcome: "accepted" });
  again.close();

  const text = readFileSync(file, "utf8");
  const lines = text
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(lines.length, 3);
  assert.equal(firstBroken(text), undefined);
  assert.deepEqual(Object.keys(lines[0]), [
    "ts",
    "user",
    "role",
    "action",
    "target",
    "outcome",
    "request_id",
    "ip",
    "prev",
    "hash",
  ]);
  assert.equal(lines[0].prev, "0".repeat(64));
  assert.equal(lines[2].prev, lines[1].hash, "the reopened log links to the last line written before");
  assert.equal(lines[1].reason, "role 'viewer' may not \"control\"\n", "quotes and newlines survive as data");
  assert.ok(!Number.isNaN(Date.parse(lines[0].ts)));

  // Tampering anywhere is found at that line.
  const edited = text.replace('"target":"mev"', '"target":"arbitrage"');
  assert.equal(firstBroken(edited), 0);
  const all = text.trimEnd().split("\n");
  assert.equal(firstBroken([all[0], all[2]].join("\n")), 1, "a removed line breaks the next one");
  writeFileSync(file, [all[1], all[0], all[2]].join("\n"));
  assert.equal(firstBroken(readFileSync(file, "utf8")), 0, "reordered lines break at once");
});
