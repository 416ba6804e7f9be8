// One set of policy rules: what kernel-helpers' validatePolicy() refuses, the control plane refuses on
// both routes that take policy fields, with the same message; what it accepts, they accept.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBus, validatePolicy, type PolicyFields } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "../src";

let cp: ControlPlane;
let bus: LocalBus;
let token = "";

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-cp-")),
    bus,
    port: 0,
    log: () => undefined,
  });
  await cp.users.add("admin", "admin-password", "admin");
  const res = await fetch(`${cp.url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "admin-password" }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});

after(async () => {
  await cp.close();
  await bus.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; message?: string }> {
  const res = await fetch(`${cp.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Requested-With": "mevlab", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { error?: { message: string } };
  return { status: res.status, message: json.error?.message };
}

const REFUSED: PolicyFields[] = [
  { throttle_pct: 101 },
  { throttle_pct: 2.5 },
  { ev_min: -1 },
  { tip_ladder: [] },
  { tip_ladder: [0, 0.5] },
  { tip_ladder: [0.5, 1] },
  { tip_ladder: [0.7, 0.5] },
  { tip_ladder: [0.5, 0.5] },
  { tip_ladder: Array.from({ length: 17 }, (_, i) => (i + 1) / 20) },
  { ev_min: 0.001, tip_ladder: [0.6, 0.4] },
];

test("the control plane refuses what validatePolicy refuses, with its first problem's message", async () => {
  for (const fields of REFUSED) {
    const problems = validatePolicy(fields);
    assert.ok(problems.length > 0, JSON.stringify(fields));
    for (const [path, body] of [
      ["/api/policy/update", { module: "mev", ...fields }],
      ["/api/control/module/mev:policy", fields],
    ] as const) {
      const res = await post(path, body);
      assert.deepEqual(res, { status: 400, message: problems[0].message }, `${path} ${JSON.stringify(fields)}`);
    }
  }
});

test("what validatePolicy accepts, the control plane accepts", async () => {
  for (const fields of [{ ev_min: 0.0003 }, { tip_ladder: [0.4, 0.8, 0.99] }, { throttle_pct: 0, ev_min: 0 }]) {
    assert.deepEqual(validatePolicy(fields), []);
    assert.equal((await post("/api/policy/update", { module: "mev", ...fields })).status, 202, JSON.stringify(fields));
  }
});
