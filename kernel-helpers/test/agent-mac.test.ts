// Acks and heartbeats are sealed with the agent's own key; the control plane derives every agent's key
// from its master key and counts only what verifies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { AckOutcome, AgentStatusSchema, ControlAckSchema, Module, create } from "@mevlab/proto";
import { AgentMacVerifier, agentKeyOf, sealAck, sealStatus } from "../src";

const master = randomBytes(32);
const verifier = new AgentMacVerifier(master);
const ack = (agentId: string) =>
  create(ControlAckSchema, { module: Module.mev, requestId: "r-1", agentId, outcome: AckOutcome.applied });

test("an ack sealed with its agent's key verifies; unsealed, tampered or in another's name it does not", () => {
  assert.equal(verifier.ack(sealAck(ack("mev-1"), agentKeyOf(master, "mev-1"))), undefined);
  assert.equal(verifier.ack(ack("mev-1")), "not sealed");
  const tampered = sealAck(ack("mev-1"), agentKeyOf(master, "mev-1"));
  tampered.outcome = AckOutcome.rejected;
  assert.equal(verifier.ack(tampered), "bad agent_mac");
  const impostor = sealAck(ack("mev-1"), agentKeyOf(master, "mev-66"));
  assert.equal(verifier.ack(impostor), "bad agent_mac", "mev-66's key cannot speak for mev-1");
  const otherMaster = sealAck(ack("mev-1"), agentKeyOf(randomBytes(32), "mev-1"));
  assert.equal(verifier.ack(otherMaster), "bad agent_mac");
});

test("a heartbeat of an agent nobody issued a key to does not verify", () => {
  const status = (agentId: string) => create(AgentStatusSchema, { agentId, module: Module.mev, bootId: "b" });
  assert.equal(verifier.status(sealStatus(status("mev-1"), agentKeyOf(master, "mev-1"))), undefined);
  assert.equal(verifier.status(status("ghost-1")), "not sealed");
  assert.equal(verifier.status(sealStatus(status("ghost-1"), randomBytes(32))), "bad agent_mac");
});
