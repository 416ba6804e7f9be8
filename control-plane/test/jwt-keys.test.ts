// Signing-key rotation by key id (issue 20): tokens name their key (`kid`); `mevlab jwt-key rotate`
// adds a key that signs from the next start while the older keys keep verifying, so nobody is
// logged out; an agent credential minted after the rotation is accepted by the running control plane.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { LINK_PROTOCOL } from "@mevlab/kernel-helpers";
import { TokenService, listJwtKeys, mintAgentCredential, rotateJwtKey } from "../src";
import { jwtHeader, login, readStatus, refresh, start, type Started, type Tokens } from "./auth-helpers";

let s: Started;

before(async () => {
  s = await start();
  await s.cp.users.add("viewer", "viewer-password", "viewer");
});

after(() => s.stop());

const linkOpens = (token: string): Promise<number> =>
  new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.cp.port}/api/bus/ws`, [LINK_PROTOCOL, `bearer.${token}`]);
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
  });

test("rotation: old tokens keep working across the restart; new ones are signed with the new key", async () => {
  const before = await login(s.cp, "viewer", "viewer-password");
  const oldKid = jwtHeader(before.access_token).kid;
  assert.match(oldKid ?? "", /^[0-9a-f]{16}$/);
  const newKid = rotateJwtKey(s.dataDir);
  assert.notEqual(newKid, oldKid);
  assert.deepEqual(
    listJwtKeys(s.dataDir).map((k) => [k.kid, k.signing]),
    [
      [newKid, true],
      [oldKid, false],
    ],
  );

  // The running control plane signs with the key it started with until it restarts.
  const stillOld = await login(s.cp, "viewer", "viewer-password");
  assert.equal(jwtHeader(stillOld.access_token).kid, oldKid);
  // An agent credential minted now is signed with the new key: the running control plane takes it.
  const { credential } = await mintAgentCredential({ dataDir: s.dataDir, agentId: "mev-7", module: "mev" });
  assert.equal(jwtHeader(credential.token).kid, newKid);
  assert.equal(await linkOpens(credential.token), 101);

  await s.stop();
  s = await start({}, s.dataDir);
  assert.equal(await readStatus(s.cp, before.access_token), 200, "a token of the old key was refused");
  const renewed = await refresh(s.cp, before.refresh_token);
  assert.equal(renewed.status, 200);
  assert.equal(jwtHeader((renewed.body as unknown as Tokens).access_token).kid, newKid);
  const after = await login(s.cp, "viewer", "viewer-password");
  assert.equal(jwtHeader(after.access_token).kid, newKid);
  assert.equal(await readStatus(s.cp, after.access_token), 200);
  assert.equal(await linkOpens(credential.token), 101);
});

test("a token without a kid verifies with the first key (jwt.key); one of an unknown key is refused", async () => {
  const first = Buffer.from(readFileSync(join(s.dataDir, "secrets", "jwt.key"), "utf8").trim(), "hex");
  const sign = (key: Uint8Array, header: Record<string, string>) =>
    new SignJWT({ role: "viewer" })
      .setProtectedHeader({ alg: "HS256", ...header })
      .setSubject("viewer")
      .setIssuer("mevlab")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(key);
  assert.equal(await readStatus(s.cp, await sign(first, {})), 200);
  assert.equal(await readStatus(s.cp, await sign(randomBytes(32), {})), 401);
  assert.equal(await readStatus(s.cp, await sign(randomBytes(32), { kid: "0123456789abcdef" })), 401);
  // A tool holding jwt.key itself (new TokenService(key)) still mints tokens the control plane takes.
  assert.equal(await readStatus(s.cp, await new TokenService(first).issue("viewer", "viewer", 60)), 200);
});
