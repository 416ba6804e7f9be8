// Promotion end to end on the embedded default (`mevlab up`, two arbitrage agents as processes on the
// bus link): models trained with train() on the simulated market's own history, uploaded to the model
// store, promoted live, rolled back, run in shadow beside the live model and made live; lineage answers
// what was in force at three times; bad promotions are refused and change nothing on any agent.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { arbHistory } from "@mevlab/agents";
import {
  ControlPlaneClient,
  endShadow,
  lineage,
  lineageVersion,
  nodeTransport,
  promote,
  shadowComparison,
  type CommandResult,
} from "@mevlab/kernel-helpers";
import { train, type ModelHandle } from "@mevlab/kernel-helpers/train";
import { AckOutcome, ControlRequest_State } from "@mevlab/proto";
import { embeddedStack, login, waitFor, waitForAgents, type Stack } from "../src/stack";

const AGENTS = ["arbitrage-1", "arbitrage-2"];

/** Rows of the local store's arbitrage table scored by this shadow model (0 before the sink wrote any). */
async function shadowRows(dataDir: string, modelId: string): Promise<number> {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    const glob = join(dataDir, "events", "arb_opportunities", "**", "part-*.parquet").replaceAll("'", "''");
    const reader = await conn.runAndReadAll(
      `SELECT count(*)::INTEGER FROM read_parquet('${glob}', union_by_name = true)
       WHERE shadow_model_id = '${modelId}' AND shadow_p_land_est > 0 AND shadow_p_land_est < 1`,
    );
    return Number(reader.getRows()[0][0]);
  } catch {
    return 0; // no part written yet
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe("promotion, lineage and shadow", { timeout: 900_000 }, () => {
  let stack: Stack;
  let client: ControlPlaneClient;
  let token = "";
  let weak: ModelHandle;
  let strong: ModelHandle;

  const call = async (method: "GET" | "POST", path: string, body?: unknown) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "X-Requested-With": "mevlab" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  const allApplied = ({ request }: CommandResult, modelId: string) => {
    assert.equal(
      ControlRequest_State[request.state],
      "applied",
      JSON.stringify(request.outcomes, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
    );
    assert.deepEqual(request.outcomes.map((o) => o.agentId).sort(), AGENTS);
    for (const o of request.outcomes) {
      assert.equal(AckOutcome[o.outcome], "applied");
      assert.equal(o.modelId, modelId, `${o.agentId} acked with the model loaded`);
    }
  };

  const liveModels = async () =>
    (await client.agents()).agents.filter((a) => a.module === "arbitrage").map((a) => a.model_id);

  before(async () => {
    stack = await embeddedStack({ rate: 300, agentsPerModule: 2 });
    client = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
    token = await login(stack.url, stack.admin.username, stack.admin.password);
    await waitForAgents(client, AGENTS);
    const tmp = mkdtempSync(join(tmpdir(), "mevlab-promote-"));
    const arrow = join(tmp, "history.arrow");
    writeFileSync(arrow, tableToIPC(tableFromArrays(arbHistory(40_000, 5)), "file"));
    const common = { module: "arbitrage", out: join(tmp, "models"), progress: "none" as const, onLog: () => undefined };
    [weak] = await train(arrow, {
      ...common,
      features: ["f_competing_bundles"],
      params: { n_estimators: 5, threads: 1 },
    });
    [strong] = await train(arrow, { ...common, params: { n_estimators: 80, threads: 1 } });
    for (const m of [weak, strong]) await client.uploadModel("arbitrage", m);
  });
  after(async () => {
    await client?.close();
    await stack?.stop();
  });

  it("refuses promotions it cannot carry out, naming why, and no agent changes", async () => {
    const before = await liveModels();
    const unknown = await call("POST", "/api/policy/promote", {
      module: "arbitrage",
      model_id: "0".repeat(64),
      reason: "x",
    });
    assert.deepEqual([unknown.status, unknown.json.error.code], [404, "unknown_model"]);
    const wrongModule = await call("POST", "/api/policy/promote", { module: "mev", model_id: strong.id, reason: "x" });
    assert.deepEqual([wrongModule.status, wrongModule.json.error.code], [422, "model_module"]);
    const noReason = await call("POST", "/api/policy/promote", {
      module: "arbitrage",
      model_id: strong.id,
      reason: " ",
    });
    assert.equal(noReason.status, 400);
    const shadowOnly = await call("POST", "/api/policy/promote", { module: "arbitrage", mode: "shadow", reason: "x" });
    assert.match(shadowOnly.json.error.message, /shadow needs model_id/);
    const noShadow = await call("POST", "/api/shadow/arbitrage/promote", {});
    assert.deepEqual([noShadow.status, noShadow.json.error.code], [409, "no_shadow"]);
    assert.deepEqual(await liveModels(), before);
  });

  it("lineage: after two promotions and a rollback, what was live at three times, and each version's chain", async () => {
    const v1 = await promote(client, {
      module: "arbitrage",
      model: weak, // a file: uploaded (already there: the same id), then promoted
      reason: "baseline: one feature",
      notebook: "notebooks/03-promote.ipynb",
    });
    assert.equal(v1.modelId, weak.id);
    allApplied(v1, weak.id);
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    const v2 = await promote(client, {
      module: "arbitrage",
      model: strong.id,
      policy: { ev_min: 0.0004 },
      reason: "all default features",
    });
    allApplied(v2, strong.id);
    const t2 = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    const v3 = await client.rollbackPolicy("arbitrage", v1.version, "back to the baseline", { timeoutMs: 60_000 });
    allApplied(v3, weak.id);
    assert.deepEqual(await liveModels(), [weak.id, weak.id]);

    const [l1, l2, l3] = [
      await lineage(client, "arbitrage", t1),
      await lineage(client, "arbitrage", new Date(t2)),
      await lineage(client, "arbitrage"),
    ];
    assert.deepEqual(
      [l1.version, l1.model?.id, l1.mode, l1.notebook],
      [String(v1.version), weak.id, "live", "notebooks/03-promote.ipynb"],
    );
    assert.deepEqual(
      [l2.version, l2.model?.id, (l2.policy as { ev_min: number }).ev_min],
      [String(v2.version), strong.id, 0.0004],
    );
    assert.deepEqual(
      [l3.version, l3.model?.id, l3.mode, l3.reason],
      [String(v3.version), weak.id, "rollback", "back to the baseline"],
    );
    assert.equal((l2.dataset as { id: string }).id, (strong.card?.dataset as { id: string }).id);
    assert.deepEqual(l2.acks.map((a) => a.agent_id).sort(), AGENTS);
    assert.ok(l2.acks.every((a) => a.model_id === strong.id && a.outcome === "applied"));
    const chain = await lineageVersion(client, "arbitrage", v2.version);
    assert.deepEqual(
      [chain.author, chain.reason, (chain.model?.params as { n_estimators: number }).n_estimators],
      [stack.admin.username, "all default features", 80],
    );
    assert.ok((chain.model?.git as { commit?: string }).commit, "the git commit the model was trained at");
    assert.equal((await lineage(client, "arbitrage", 1)).version, "0", "before any promotion: the default policy");
  });

  it("shadow: the better candidate shows better on the same opportunities, then goes live on every agent", async (t) => {
    const deploy = await promote(client, {
      module: "arbitrage",
      mode: "shadow",
      model: strong.id,
      policy: { ev_min: 0.0004 },
      reason: "candidate beside the baseline",
    });
    allApplied(deploy, weak.id);
    const view = await waitFor(
      "30,000 opportunities scored by both",
      async () => {
        const v = await shadowComparison(client, "arbitrage");
        return v.windows[1].opportunities >= 30_000 ? v : undefined;
      },
      180_000,
    );
    const w = view.windows[1];
    t.diagnostic(JSON.stringify(w));
    assert.equal(view.active, true);
    assert.deepEqual([view.live_model_id, view.shadow_model_id], [weak.id, strong.id]);
    assert.ok(w.shadow.brier! < w.live.brier! - 0.01, `Brier: shadow ${w.shadow.brier}, live ${w.live.brier}`);
    // Sharper estimates send fewer bundles that fail. Counterfactual SOL is reported, not asserted: in this
    // market a bundle that does not land costs nothing, so sending nearly everything earns about as much
    // (docs/promotion.md, "Shadow comparison").
    assert.ok(
      w.shadow.hit_rate! > w.live.hit_rate! + 0.02,
      `hit rate: shadow ${w.shadow.hit_rate}, live ${w.live.hit_rate}`,
    );
    assert.ok(w.agreement! > 0 && w.agreement! < 1);

    // The event store keeps both estimates and decisions, for slices later.
    const stored = await waitFor(
      "shadow decisions in the event store",
      async () => {
        const n = await shadowRows(stack.dataDir, strong.id);
        return n > 0 ? n : undefined;
      },
      60_000,
    );
    t.diagnostic(`${stored} opportunities with the shadow's estimate in the store`);

    const live = await endShadow(client, "arbitrage", "promote", { reason: "better in shadow" });
    allApplied(live, strong.id);
    assert.deepEqual(await liveModels(), [strong.id, strong.id]);
    const policy = await client.policy("arbitrage");
    assert.deepEqual(
      [policy.current.modelId, policy.current.evMin, policy.current.shadow],
      [strong.id, 0.0004, undefined],
    );
    assert.equal((await lineage(client, "arbitrage")).mode, "shadow_to_live");
  });
});
