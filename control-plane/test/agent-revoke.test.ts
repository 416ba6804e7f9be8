// A revoked agent credential (`mevlab agent-credential revoke`, issue 20): its open bus link is
// closed within a second and it cannot open another; a credential minted afterwards works.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { LINK_PROTOCOL } from "@mevlab/kernel-helpers";
import { mintAgentCredential, revokeAgentTokens } from "../src";
import { start, type Started } from "./auth-helpers";

let s: Started;

before(async () => {
  s = await start();
});

after(() => s.stop());

/** Opens a bus link: the socket and how it ended, or the refused upgrade's status. */
function link(token: string): Promise<{ closed?: Promise<{ code: number; at: number }>; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.cp.port}/api/bus/ws`, [LINK_PROTOCOL, `bearer.${token}`]);
    const closed = new Promise<{ code: number; at: number }>((done) =>
      ws.once("close", (code) => done({ code, at: Date.now() })),
    );
    ws.once("open", () => resolve({ closed }));
    ws.once("unexpected-response", (_req, res) => resolve({ status: res.statusCode }));
  });
}

test("revoke: the agent's link closes within 1 s, its old credential is refused, a new one works", async () => {
  const old = (await mintAgentCredential({ dataDir: s.dataDir, agentId: "mev-3", module: "mev" })).credential;
  const other = (await mintAgentCredential({ dataDir: s.dataDir, agentId: "mev-4", module: "mev" })).credential;
  const open = await link(old.token);
  const untouched = await link(other.token);
  assert.ok(open.closed && untouched.closed);
  const revokedAt = Date.now();
  revokeAgentTokens(s.dataDir, "mev-3");
  const closed = await Promise.race([
    open.closed,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_000)),
  ]);
  assert.ok(closed, "the revoked agent's link is open 1 s after the revocation");
  assert.equal(closed.code, 4003);
  assert.ok(closed.at - revokedAt < 1_000);
  assert.equal((await link(old.token)).status, 401);
  const renewed = (await mintAgentCredential({ dataDir: s.dataDir, agentId: "mev-3", module: "mev" })).credential;
  assert.ok((await link(renewed.token)).closed, "a credential minted after the revocation is refused");
  // Another agent's link stays up.
  const still = await Promise.race([untouched.closed, new Promise<"open">((r) => setTimeout(() => r("open"), 300))]);
  assert.equal(still, "open");
});
