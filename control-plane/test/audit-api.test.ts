// The audit log over the API (admin only): what the test did, filtered by user, module, action,
// outcome and time, newest first; the same as CSV; the chain verified, and after one record is edited
// on disk, verify names that record's line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { call, login, start } from "./auth-helpers";

test("GET /api/audit filters what happened, /api/audit/export.csv exports it, /api/audit/verify names the first bad record", async () => {
  const s = await start();
  try {
    await s.cp.users.add("boss", "boss-password-1", "admin");
    await s.cp.users.add("watcher", "watcher-password-1", "viewer");
    const admin = (await login(s.cp, "boss", "boss-password-1")).access_token;
    const viewer = (await login(s.cp, "watcher", "watcher-password-1")).access_token;
    const t0 = new Date().toISOString();
    const throttle = (token: string, module: string) =>
      call(s.cp, "POST", `/api/control/module/${module}:throttle`, { token, body: { throttle_pct: 20 } });
    assert.equal((await throttle(admin, "mev")).status, 202);
    assert.equal((await throttle(admin, "arbitrage")).status, 202);
    assert.equal((await throttle(viewer, "mev")).status, 403);

    const audit = async (query: string, token = admin) => call(s.cp, "GET", `/api/audit${query}`, { token });
    assert.equal((await audit("", viewer)).status, 403, "viewers do not read the audit log");
    const all = (await audit("")).body as { records: Record<string, string>[]; matched: number; scanned: number };
    // Two throttles, the viewer's refused throttle and its refused read of the audit log (logins are not audited).
    assert.equal(all.matched, 4, JSON.stringify(all));
    const times = all.records.map((r) => Date.parse(r.ts));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      "newest first",
    );

    const denied = (await audit("?user=watcher&outcome=denied")).body as typeof all;
    assert.deepEqual(
      denied.records.map((r) => r.action),
      ["read /api/audit", "control"],
    );
    const mev = (await audit(`?module=mev&from=${encodeURIComponent(t0)}`)).body as typeof all;
    assert.deepEqual(mev.records.map((r) => [r.user, r.outcome]).sort(), [
      ["boss", "accepted"],
      ["watcher", "denied"],
    ]);
    const byPrefix = (await audit("?action=control.&outcome=accepted&limit=1")).body as typeof all;
    assert.deepEqual([byPrefix.records.length, byPrefix.matched], [1, 2]);
    assert.match(byPrefix.records[0].target, /arbitrage/, "the newest of the two");
    assert.equal((await audit(`?to=${encodeURIComponent(t0)}&module=mev`)).body.matched, 0);
    assert.equal((await audit("?from=yesterday")).status, 400);

    const csv = await fetch(`${s.cp.url}/api/audit/export.csv?user=watcher`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    const lines = (await csv.text()).trimEnd().split("\r\n");
    assert.equal(lines[0], "ts,user,role,action,target,outcome,reason,request_id,ip");
    assert.ok(
      lines.slice(1).every((l) => l.split(",")[1] === "watcher"),
      lines.join("\n"),
    );

    const verified = (await call(s.cp, "GET", "/api/audit/verify", { token: admin })).body;
    assert.deepEqual([verified.ok, (verified.problems as string[]).length], [true, 0]);
    const file = join(s.dataDir, "audit", "audit.jsonl");
    const records = readFileSync(file, "utf8").split("\n");
    assert.ok(records.length > 3);
    records[2] = records[2].replace(/"user":"[^"]*"/, '"user":"someone-else"'); // the third record, edited
    writeFileSync(file, records.join("\n"));
    const broken = (await call(s.cp, "GET", "/api/audit/verify", { token: admin })).body;
    assert.equal(broken.ok, false);
    assert.match((broken.problems as string[])[0], /line 3\b/, JSON.stringify(broken));
  } finally {
    await s.stop();
  }
});
