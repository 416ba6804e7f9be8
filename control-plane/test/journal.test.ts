// The journal reader every control-plane journal starts from: a torn last line (a crash mid-append)
// is cut off and named with the bytes dropped; a bad line anywhere else refuses with file:line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JournalError, JournalWriter, replayJournal } from "../src/journal";

function replay(content: string | Buffer) {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-journal-")), "j.jsonl");
  writeFileSync(file, content);
  const seen: unknown[] = [];
  const logged: string[] = [];
  const result = replayJournal(file, { apply: (v) => void seen.push(v), log: (l) => void logged.push(l) });
  return { file, seen, logged, result, after: readFileSync(file, "utf8") };
}

test("a last line without its newline that is not JSON is cut off, with the file, line and bytes", () => {
  const r = replay('{"a":1}\n{"a":2}\n{"a":');
  assert.deepEqual(r.seen, [{ a: 1 }, { a: 2 }]);
  assert.equal(r.after, '{"a":1}\n{"a":2}\n');
  assert.equal(r.result.droppedBytes, 5);
  assert.deepEqual(r.logged, [
    `${r.file}:3: dropped a torn last line (5 bytes, no newline): a write cut short by a crash`,
  ]);
});

test("a last line of zeros (a file extended by a power loss) is cut off too", () => {
  const r = replay(Buffer.concat([Buffer.from('{"a":1}\n'), Buffer.alloc(4096), Buffer.from("\n")]));
  assert.deepEqual(r.seen, [{ a: 1 }]);
  assert.equal(r.after, '{"a":1}\n');
  assert.equal(r.result.droppedBytes, 4097);
});

test("a whole last line without its newline is kept and given one", () => {
  const r = replay('{"a":1}\n{"a":2}');
  assert.deepEqual(r.seen, [{ a: 1 }, { a: 2 }]);
  assert.equal(r.after, '{"a":1}\n{"a":2}\n');
  assert.equal(r.result.droppedBytes, 0);
  assert.match(r.logged[0], /:2: the last line was whole but had no newline: kept/);
});

test("a bad line that is not the last refuses with file:line, and the file is left as it was", () => {
  const content = '{"a":1}\n{"a":\n{"a":3}\n';
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-journal-")), "j.jsonl");
  writeFileSync(file, content);
  assert.throws(
    () => replayJournal(file, { apply: () => undefined, log: () => undefined }),
    (err: unknown) =>
      err instanceof JournalError &&
      err.message === `${file}:2: not valid JSON (only the last line may be torn)` &&
      err.line === 2,
  );
  assert.equal(readFileSync(file, "utf8"), content);
});

test("a line that is JSON but not a record refuses with file:line and why, even the last", () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-journal-")), "j.jsonl");
  writeFileSync(file, '{"a":1}\n\n{"b":2}\n');
  const apply = (v: unknown) => {
    if (!(v as { a?: number }).a) throw new Error("no a");
  };
  assert.throws(() => replayJournal(file, { apply, log: () => undefined }), { message: `${file}:3: no a` });
});

test("appends after a repair start on a line of their own", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-journal-")), "j.jsonl");
  writeFileSync(file, '{"a":1}\n{"a":');
  replayJournal(file, { apply: () => undefined, log: () => undefined });
  const w = new JournalWriter(file, { sync: "each" });
  w.append('{"a":2}');
  await w.close();
  assert.equal(readFileSync(file, "utf8"), '{"a":1}\n{"a":2}\n');
});

test("group sync: lines are in the file at once, in order, and close waits for the sync in flight", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-journal-")), "j.jsonl");
  const w = new JournalWriter(file, { sync: "group", onSyncError: (err) => assert.fail(err) });
  for (let i = 0; i < 200; i++) {
    w.append(JSON.stringify({ i }));
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(readFileSync(file, "utf8").split("\n").length, 201);
  await w.close();
  assert.equal(w.isOpen, false);
  const lines = readFileSync(file, "utf8").trimEnd().split("\n");
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { i: number }).i),
    Array.from({ length: 200 }, (_, i) => i),
  );
});

test("group sync: durable() resolves after a sync that began once its lines were written, never before", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-journal-")), "j.jsonl");
  const w = new JournalWriter(file, { sync: "group", onSyncError: (err) => assert.fail(err) });
  const order: string[] = [];
  w.append('{"i":0}');
  const first = w.durable().then(() => order.push("first"));
  // Written while the first sync runs: only a second sync covers it.
  w.append('{"i":1}');
  const second = w.durable().then(() => order.push("second"));
  assert.deepEqual(order, [], "nothing is durable before a sync has finished");
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first", "second"]);
  await w.durable(); // nothing written since: at once
  w.append('{"i":2}');
  const pending = w.durable();
  await w.close(); // the last line is synced on close, and its waiter answered
  await pending;
});
