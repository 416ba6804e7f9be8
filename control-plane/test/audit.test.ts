// The audit log: one JSON line per record, each carrying the mac of the record before and its own
// HMAC-SHA256 under the data dir's audit key; `verifyAudit` (mevlab audit verify) names the first bad
// record, and with the head anchored outside the data dir it also finds a removed tail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anchorTarget, FileAnchor } from "../src/audit/anchor";
import { AuditLog, type AuditEntry } from "../src/audit/log";
import { verifyAudit } from "../src/audit/verify";

const entry = (i: number): AuditEntry => ({
  user: "ops",
  role: "admin",
  action: "control.kill",
  target: `mev-${i}`,
  outcome: "accepted",
  request_id: `r${i}`,
  ip: "127.0.0.1",
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "mevlab-audit-"));
  const logged: string[] = [];
  return {
    dir,
    file: join(dir, "data", "audit", "audit.jsonl"),
    key: randomBytes(32),
    anchor: new FileAnchor(join(dir, "elsewhere", "audit-anchor.json")),
    logged,
    log: (line: string) => void logged.push(line),
  };
}

async function writeLog(s: ReturnType<typeof setup>, n: number, withAnchor = true): Promise<string[]> {
  const audit = await AuditLog.open({
    file: s.file,
    key: s.key,
    log: s.log,
    anchor: withAnchor ? s.anchor : undefined,
  });
  for (let i = 1; i <= n; i++) audit.write(entry(i));
  await audit.close();
  return readFileSync(s.file, "utf8").trimEnd().split("\n");
}

const lines = (file: string) => readFileSync(file, "utf8").trimEnd().split("\n");

test("each record links to the one before and carries its HMAC; a reopened log continues the chain", async () => {
  const s = setup();
  await writeLog(s, 2);
  const again = await AuditLog.open({ file: s.file, key: s.key, log: s.log, anchor: s.anchor });
  again.write({ ...entry(3), reason: "role 'viewer' may not \"control\"\n" });
  await again.close();
  const records = lines(s.file).map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(records.length, 3);
  assert.deepEqual(Object.keys(records[0]), [
    "ts",
    "user",
    "role",
    "action",
    "target",
    "outcome",
    "request_id",
    "ip",
    "prev",
    "mac",
  ]);
  assert.equal(records[0].prev, "0".repeat(64));
  assert.equal(records[2].prev, records[1].mac, "the reopened log links to the last record written before");
  assert.equal(records[2].reason, "role 'viewer' may not \"control\"\n", "quotes and newlines survive as data");
  const report = await verifyAudit({ file: s.file, key: s.key, anchor: s.anchor });
  assert.deepEqual(report.problems, []);
  assert.equal(report.records, 3);
  assert.match(report.notes.join("\n"), /saw 3 records; its head is record 3/);
});

test("verify names the edited record, the record after a removed one, and a wrong key", async () => {
  const s = setup();
  const original = await writeLog(s, 5);
  const edited = [...original];
  edited[2] = edited[2].replace('"target":"mev-3"', '"target":"arbitrage"');
  writeFileSync(s.file, edited.join("\n") + "\n");
  let report = await verifyAudit({ file: s.file, key: s.key });
  assert.deepEqual(report.problems, [
    "line 3: bad HMAC: the record was edited, or the key is not the one that wrote it",
  ]);

  writeFileSync(s.file, [...original.slice(0, 1), ...original.slice(2)].join("\n") + "\n");
  report = await verifyAudit({ file: s.file, key: s.key });
  assert.equal(report.problems.length, 1);
  assert.match(report.problems[0], /^line 2: bad link/);

  writeFileSync(s.file, original.join("\n") + "\n");
  report = await verifyAudit({ file: s.file, key: randomBytes(32) });
  assert.match(report.problems[0], /^line 1: bad HMAC/);

  writeFileSync(s.file, [...original.slice(0, 3), "{not json", ...original.slice(3)].join("\n") + "\n");
  report = await verifyAudit({ file: s.file, key: s.key });
  assert.match(report.problems[0], /^line 4: bad JSON/);
});

test("a removed tail is found through the anchor, by verify and by the next start", async () => {
  const s = setup();
  const original = await writeLog(s, 5);
  assert.equal(JSON.parse(readFileSync(s.anchor.file, "utf8")).count, 5, "the anchor is written on close");
  writeFileSync(s.file, original.slice(0, 3).join("\n") + "\n");
  // Without the anchor the shortened log is a valid chain: nothing in it shows the loss.
  assert.deepEqual((await verifyAudit({ file: s.file, key: s.key })).problems, []);
  const report = await verifyAudit({ file: s.file, key: s.key, anchor: s.anchor });
  assert.equal(report.problems.length, 1);
  assert.match(report.problems[0], /^truncated: the anchor .* saw 5 records, the log has 3: its tail was removed$/);

  // The next start finds it too, says so, and records it in the chain, so that it stays found after
  // the anchor has moved on.
  const audit = await AuditLog.open({ file: s.file, key: s.key, log: s.log, anchor: s.anchor });
  audit.write(entry(6));
  await audit.close();
  assert.match(s.logged.join("\n"), /ALERT .*audit\.jsonl: truncated: the anchor .* saw 5 records, the log has 3/);
  const after = await verifyAudit({ file: s.file, key: s.key, anchor: s.anchor });
  assert.equal(after.records, 5);
  assert.match(after.problems.join("\n"), /^line 4: the control plane found at start: truncated/);
});

test("a tail replaced by as many records is found: the anchored head is not in the log", async () => {
  const s = setup();
  const original = await writeLog(s, 4);
  // Someone with the key rewrites the last two records: the chain verifies, the anchor does not.
  writeFileSync(s.file, original.slice(0, 2).join("\n") + "\n");
  await writeLog(s, 2, false);
  const report = await verifyAudit({ file: s.file, key: s.key, anchor: s.anchor });
  assert.equal(report.records, 4);
  assert.deepEqual(report.problems.length, 1);
  assert.match(report.problems[0], /^rewritten: the anchor .* saw 4 records, but record 4 is not the anchored head$/);
});

test("an anchor written with another key, or inside the data dir, is refused", async () => {
  const s = setup();
  await writeLog(s, 2);
  const report = await verifyAudit({ file: s.file, key: randomBytes(32), anchor: s.anchor });
  assert.match(report.problems.join("\n"), /anchor .*: bad HMAC: the anchor was edited, or written with another key/);
  assert.throws(() => anchorTarget(join(s.dir, "data", "anchor.json"), join(s.dir, "data")), /inside the data dir/);
  assert.throws(() => anchorTarget("s3://bucket/anchor.json", join(s.dir, "data")), /S3 anchors are not supported/);
});

test("a torn last line is cut off at start and named; a bad line before it refuses with file:line", async () => {
  const s = setup();
  const original = await writeLog(s, 3, false);
  writeFileSync(s.file, original.join("\n") + '\n{"ts":"2025-');
  const audit = await AuditLog.open({ file: s.file, key: s.key, log: s.log });
  audit.write(entry(4));
  await audit.close();
  assert.match(s.logged.join("\n"), /audit\.jsonl:4: dropped a torn last line \(12 bytes, no newline\)/);
  assert.equal(lines(s.file).length, 4);
  assert.deepEqual((await verifyAudit({ file: s.file, key: s.key })).problems, []);

  writeFileSync(s.file, [original[0], '{"ts":"2025-', ...original.slice(1)].join("\n") + "\n");
  await assert.rejects(
    AuditLog.open({ file: s.file, key: s.key, log: s.log }),
    (err: Error) => err.message === `${s.file}:2: not valid JSON (only the last line may be torn)`,
  );
});

test("a pre-HMAC log is set aside at start and reported as not verifiable", async () => {
  const s = setup();
  await writeLog(s, 0, false);
  // The unkeyed sha256 chain the log had before the HMAC.
  const { createHash } = await import("node:crypto");
  const body = JSON.stringify({ ts: "2025-01-01T00:00:00.000Z", ...entry(1), prev: "0".repeat(64) });
  const hash = createHash("sha256").update(body).digest("hex");
  writeFileSync(s.file, `${body.slice(0, -1)},"hash":"${hash}"}\n`);
  const audit = await AuditLog.open({ file: s.file, key: s.key, log: s.log });
  await audit.close();
  const dir = join(s.dir, "data", "audit");
  const archived = readdirSync(dir).filter((f) => f.startsWith("audit.pre-hmac-"));
  assert.equal(archived.length, 1);
  assert.ok(existsSync(s.file));
  const fresh = await verifyAudit({ file: s.file, key: s.key });
  assert.deepEqual(fresh.problems, []);
  assert.match(fresh.notes.join("\n"), /line 1: pre-HMAC log set aside: 1 records, last sha256 [0-9a-f]{64}/);
  const old = await verifyAudit({ file: join(dir, archived[0]), key: s.key });
  assert.match(old.problems.join("\n"), /a pre-HMAC log \(unkeyed sha256 chain\): consistent, but not verifiable/);
});
