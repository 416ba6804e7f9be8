// `mevlab audit verify` on a data dir a real control plane wrote: it names the first bad record and,
// given the anchor the control plane kept outside the data dir, reports a removed tail; the exit
// status is 1 on any problem.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBus } from "@mevlab/kernel-helpers";
import { startControlPlane } from "@mevlab/control-plane";

const CLI = join(__dirname, "..", "src", "main.js");
const root = mkdtempSync(join(tmpdir(), "mevlab-audit-verify-"));
const dataDir = join(root, "data");
const anchor = join(root, "anchor", "audit-anchor.json");
const log = join(dataDir, "audit", "audit.jsonl");
let original = "";

before(async () => {
  const bus = new LocalBus();
  const cp = await startControlPlane({ dataDir, bus, port: 0, sink: false, auditAnchor: anchor, log: () => undefined });
  await cp.users.add("viewer", "viewer-password", "viewer");
  const res = await fetch(`${cp.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "viewer", password: "viewer-password" }),
  });
  const { access_token } = (await res.json()) as { access_token: string };
  // Five refusals, each one audit record: a viewer may not kill.
  for (let i = 0; i < 5; i++) {
    const denied = await fetch(`${cp.url}/api/control/kill-all`, {
      method: "POST",
      headers: { authorization: `Bearer ${access_token}`, "x-requested-with": "mevlab" },
    });
    assert.equal(denied.status, 403);
  }
  await cp.close();
  await bus.close();
  original = readFileSync(log, "utf8");
});

function verify(...args: string[]): { status: number | null; out: string } {
  const env = { ...process.env, MEVLAB_AUDIT_ANCHOR: "" };
  const res = spawnSync(process.execPath, [CLI, "audit", "verify", "--data-dir", dataDir, ...args], {
    encoding: "utf8",
    env,
  });
  return { status: res.status, out: res.stdout + res.stderr };
}

test("an untouched log verifies, and the anchor's head is found in it", () => {
  const r = verify("--anchor", anchor);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /: 5 records\n/);
  assert.match(r.out, /saw 5 records; its head is record 5 of the log/);
  assert.match(r.out, /\nverified\n$/);
});

test("an edited record is named by its line", () => {
  const lines = original.trimEnd().split("\n");
  lines[2] = lines[2].replace('"role":"viewer"', '"role":"admin"');
  writeFileSync(log, lines.join("\n") + "\n");
  const r = verify("--anchor", anchor);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /PROBLEM line 3: bad HMAC: the record was edited/);
  writeFileSync(log, original);
});

test("a removed tail is reported through the anchor, and only through it", () => {
  writeFileSync(log, original.trimEnd().split("\n").slice(0, 3).join("\n") + "\n");
  const r = verify("--anchor", anchor);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /PROBLEM truncated: the anchor .* saw 5 records, the log has 3: its tail was removed/);
  const blind = verify();
  assert.equal(blind.status, 0, blind.out);
  assert.match(blind.out, /no anchor given .*: a removed tail cannot be detected/);
  writeFileSync(log, original);
});
