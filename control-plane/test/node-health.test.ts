// Node health against a local JSON-RPC server whose response bodies are shaped exactly as the Solana
// JSON-RPC documentation shows them (getHealth, getSlot, getVersion, getEpochInfo): there is no
// Solana node on this machine, so this server stands in for one.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { NodeHealth, displayUrl, pollNode } from "../src/node/health";

interface FakeNode {
  url: string;
  server: Server;
  slot: number;
  health: "ok" | "behind" | "unhealthy";
  auth?: string;
}

async function fakeNode(slot: number): Promise<FakeNode> {
  const node = { slot, health: "ok" } as FakeNode;
  node.server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      node.auth = req.headers.authorization;
      const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
      const commitment = (params?.[0] as { commitment?: string } | undefined)?.commitment;
      let answer: unknown;
      if (method === "getHealth") {
        answer =
          node.health === "ok"
            ? { jsonrpc: "2.0", result: "ok", id }
            : node.health === "behind"
              ? {
                  jsonrpc: "2.0",
                  error: { code: -32005, message: "Node is behind by 42 slots", data: { numSlotsBehind: 42 } },
                  id,
                }
              : { jsonrpc: "2.0", error: { code: -32005, message: "Node is unhealthy", data: {} }, id };
      } else if (method === "getSlot") {
        const lag = commitment === "finalized" ? 32 : commitment === "confirmed" ? 2 : 0;
        answer = { jsonrpc: "2.0", result: node.slot - lag, id };
      } else if (method === "getVersion") {
        answer = { jsonrpc: "2.0", result: { "feature-set": 2891131721, "solana-core": "1.16.7" }, id };
      } else if (method === "getEpochInfo") {
        answer = {
          jsonrpc: "2.0",
          result: {
            absoluteSlot: node.slot,
            blockHeight: node.slot - 98,
            epoch: 27,
            slotIndex: 2790,
            slotsInEpoch: 8192,
            transactionCount: 22661093,
          },
          id,
        };
      } else answer = { jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => node.server.listen(0, "127.0.0.1", r));
  node.url = `http://127.0.0.1:${(node.server.address() as AddressInfo).port}`;
  return node;
}

describe("private node health", () => {
  let node: FakeNode;
  let reference: FakeNode;
  before(async () => {
    node = await fakeNode(166_598);
    reference = await fakeNode(166_610);
  });
  after(() => {
    node.server.close();
    reference.server.close();
  });

  it("reads slots per commitment, version, epoch and slot lag against the reference", async () => {
    const s = await pollNode(node.url, reference.url);
    assert.equal(s.configured, true);
    assert.equal(s.reachable, true);
    assert.equal(s.healthy, true);
    assert.equal(s.healthError, "");
    assert.equal(s.slotProcessed, 166_598n);
    assert.equal(s.slotConfirmed, 166_596n);
    assert.equal(s.slotFinalized, 166_566n);
    assert.equal(s.version, "1.16.7");
    assert.equal(s.epoch, 27n);
    assert.equal(s.slotIndex, 2790n);
    assert.equal(s.slotsInEpoch, 8192n);
    assert.equal(s.referenceSlot, 166_610n);
    assert.equal(s.slotLag, 12n);
    assert.ok(s.rpcMs > 0);
  });

  it("reports getHealth's error message when the node is behind or unhealthy", async () => {
    try {
      node.health = "behind";
      let s = await pollNode(node.url);
      assert.equal(s.healthy, false);
      assert.equal(s.reachable, true);
      assert.match(s.healthError, /getHealth: Node is behind by 42 slots/);
      assert.equal(s.slotLag, 0n, "no reference, no lag");
      node.health = "unhealthy";
      s = await pollNode(node.url);
      assert.match(s.healthError, /Node is unhealthy/);
    } finally {
      node.health = "ok";
    }
  });

  it("an unreachable node is a status, not an exception", async () => {
    const s = await pollNode("http://127.0.0.1:9/", undefined, 500);
    assert.equal(s.reachable, false);
    assert.equal(s.healthy, false);
    assert.match(s.healthError, /unreachable/);
  });

  it("sends credentials in the URL as basic auth and never shows them", async () => {
    const withCreds = node.url.replace("http://", "http://rpcuser:p%40ss@") + "/?api-key=SECRET";
    const s = await pollNode(withCreds);
    assert.equal(node.auth, `Basic ${Buffer.from("rpcuser:p@ss").toString("base64")}`);
    assert.equal(s.url, node.url);
    assert.ok(
      !JSON.stringify({ ...s, $typeName: undefined }, (_k, v: unknown) =>
        typeof v === "bigint" ? String(v) : v,
      ).includes("SECRET"),
    );
    assert.equal(displayUrl("not a url"), "(invalid URL)");
  });

  it("shows viewers the node's host only: an API key in the path is used, not shown", async () => {
    const withKeyInPath = `${node.url}/v2/SECRET-KEY?api-key=OTHER`;
    const s = await pollNode(withKeyInPath, undefined, 500);
    assert.equal(s.url, node.url);
    const health = new NodeHealth({ url: withKeyInPath, onStatus: () => undefined });
    assert.equal(health.latest.url, node.url);
    assert.equal(displayUrl("https://u:p@rpc.example.com:8443/abc/KEY?x=1"), "https://rpc.example.com:8443");
  });

  it("polls on an interval and reports each status", async () => {
    const seen: bigint[] = [];
    const health = new NodeHealth({ url: node.url, intervalMs: 50, onStatus: (st) => seen.push(st.slotProcessed) });
    // Waits on the polls themselves, not on how many should fit in a time (a busy machine fits fewer).
    const polled = async (ok: () => boolean): Promise<void> => {
      for (const until = Date.now() + 15_000; !ok() && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    };
    health.start();
    try {
      await polled(() => seen.length >= 1);
      node.slot += 5;
      await polled(() => seen.length >= 3 && seen[seen.length - 1] === BigInt(node.slot));
    } finally {
      health.stop();
    }
    assert.ok(seen.length >= 3, `${seen.length} polls`);
    assert.equal(seen[seen.length - 1], BigInt(node.slot));
    assert.equal(new NodeHealth({ onStatus: () => undefined }).latest.configured, false);
  });
});
