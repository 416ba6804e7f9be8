// The Policy panel in real JupyterLab and Debian's Chromium, against the embedded control plane and two
// arbitrage agents: two XGBoost models trained with train() on the simulated market's history and
// uploaded; an admin edits (inline validation, diff), promotes A, promotes B, rolls back, asks what was
// live at three times (the panel and GET /api/lineage agree), deploys B in shadow and watches the
// comparison fill, a viewer sees it all without a mutating button, and the shadow goes live.
// Screenshots (light and dark) go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays } from "apache-arrow";
import type { Browser, Locator, Page } from "playwright-core";
import { arbHistory } from "@mevlab/agents";
import { ControlPlaneClient, lineage, nodeTransport, validatePolicy } from "@mevlab/kernel-helpers";
import { train, type ModelHandle } from "@mevlab/kernel-helpers/train";
import { PolicySchema, fromWireJson, type JsonValue } from "@mevlab/proto";
import {
  launchChromium,
  logInMevlabPanel,
  openMevlabPanel,
  openPalette,
  screenshotThemes,
  switchUser,
} from "../src/lab-page";
import { ROOT, embeddedStack, waitForAgents, type Stack } from "../src/stack";

const RESULTS = join(ROOT, "test-results");
const AGENTS = ["arbitrage-1", "arbitrage-2"];
/** A policy change reaches done when both agents have loaded the model: generous for 2 busy cores. */
const APPLIED_MS = 90_000;

let stack: Stack;
let client: ControlPlaneClient;
let browser: Browser;
let page: Page;
let panel: Locator;
let a: ModelHandle;
let b: ModelHandle;
const versions: number[] = [];
const times: number[] = [];

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await embeddedStack({ lab: true, agentsPerModule: 2 });
  client = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
  await waitForAgents(client, AGENTS, 60_000);
  const history = tableFromArrays(arbHistory(20_000, 5));
  const common = {
    module: "arbitrage",
    out: join(mkdtempSync(join(tmpdir(), "mevlab-ui-policy-")), "models"),
    progress: "none" as const,
    onLog: () => undefined,
  };
  [a] = await train(history, { ...common, params: { n_estimators: 5, max_depth: 2, threads: 1 } });
  [b] = await train(history, { ...common, params: { n_estimators: 30, threads: 1 } });
  for (const m of [a, b]) await client.uploadModel("arbitrage", m);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

after(async () => {
  await browser?.close();
  await client?.close();
  await stack?.stop();
});

/** `datetime-local`'s value for a time, in the browser's (the same machine's) local time, to the ms. */
function localInputValue(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

/** A time at or after `ms` whose milliseconds do not end in 0: the input keeps all three digits as typed. */
function pickable(ms: number): number {
  return ms + ((17 - (ms % 10)) % 10);
}

/** Answers the reason dialog and waits until it is gone. */
async function giveReason(reason: string): Promise<void> {
  const dialog = page.locator(".jp-Dialog", { has: page.locator(".mevlab-policy-reason") });
  await dialog.locator("input[name=reason]").fill(reason);
  await dialog.locator(".jp-Dialog-button.jp-mod-accept").click();
  await dialog.waitFor({ state: "detached" });
}

/** Records every state the outcome view goes through (state|agent=outcome,…) from now on. */
async function watchOutcome(): Promise<void> {
  await page.evaluate(`(() => {
    const node = document.querySelector(".mevlab-policy .mevlab-policy-outcome");
    const seen = (window.__policyOutcome = []);
    const snap = () => seen.push(node.dataset.state + "|" + [...node.querySelectorAll("li")]
      .map((l) => l.dataset.agent + "=" + l.dataset.outcome).join(","));
    window.__policyObserver?.disconnect();
    window.__policyObserver = new MutationObserver(snap);
    window.__policyObserver.observe(node, { attributes: true, childList: true, subtree: true });
  })()`);
}

/** Waits for the change to be applied; asserts both agents went pending → applied, running `modelId`. */
async function appliedOnBothAgents(modelId: string): Promise<number> {
  const outcome = panel.locator(".mevlab-policy-outcome");
  await page.waitForFunction(
    `(window.__policyOutcome ?? []).some((s) => s.startsWith("pending|")) &&
      !window.__policyOutcome.at(-1).startsWith("pending|")`,
    undefined,
    { timeout: APPLIED_MS },
  );
  const summary = (await outcome.locator(".mevlab-policy-outcome-summary").textContent()) ?? "";
  assert.equal(await outcome.getAttribute("data-state"), "applied", summary);
  const seen = (await page.evaluate("window.__policyOutcome")) as string[];
  assert.equal(seen[0], `pending|${AGENTS.map((id) => `${id}=pending`).join(",")}`, seen.join("\n"));
  assert.equal(seen.at(-1), `applied|${AGENTS.map((id) => `${id}=applied`).join(",")}`, seen.join("\n"));
  for (const id of AGENTS) {
    const text = await outcome.locator(`li[data-agent="${id}"]`).textContent();
    assert.match(text ?? "", new RegExp(`applied \\(runs .*${modelId.slice(0, 12)}\\)`));
  }
  const version = Number(/: v(\d+) applied/.exec(summary)?.[1]);
  assert.ok(version > 0, summary);
  await panel.locator(`.mevlab-policy-current[data-version="${version}"]`).waitFor({ timeout: 10_000 });
  return version;
}

async function promoteFromEditor(reason: string, modelId: string): Promise<number> {
  await watchOutcome();
  await panel.locator(".mevlab-policy-promote").click();
  await giveReason(reason);
  return appliedOnBothAgents(modelId);
}

/** The whole panel in one picture: a tall viewport, then back. */
async function screenshot(name: string): Promise<void> {
  await page.setViewportSize({ width: 1400, height: 2200 });
  await page.screenshot({ path: join(RESULTS, name) });
  await page.setViewportSize({ width: 1400, height: 1000 });
}

test("an admin opens the Policy panel: version 0 in force, both models to pick", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.admin);
  await openPalette(page, "mevlab: Policy");
  panel = page.locator(".mevlab-policy");
  await panel.locator('.mevlab-policy-current[data-version="0"]').waitFor({ timeout: 15_000 });
  assert.equal(await panel.getAttribute("data-module"), "arbitrage");
  const picker = panel.locator("select[name=model]");
  await picker.locator(`option[value="${b.id}"]`).waitFor({ state: "attached" });
  const options = await picker.locator("option").evaluateAll((os) => os.map((o) => o.getAttribute("value")));
  assert.ok(options.includes(a.id) && options.includes(b.id), options.join(","));
  assert.equal(await panel.locator(".mevlab-policy-promote").isDisabled(), true, "nothing changed yet");
});

test("the editor checks as typed with the shared rules, shows the diff, and promotes model A to both agents", async () => {
  await panel.locator("select[name=model]").selectOption(a.id);
  await panel.locator("input[name=ev_min]").fill("0.0003");
  const ladder = panel.locator("input[name=tip_ladder]");
  const problem = panel.locator('.mevlab-policy-problem[data-field="tip_ladder"]');
  await ladder.fill("0.9, 0.5");
  const expected = validatePolicy({ tip_ladder: [0.9, 0.5] })[0].message;
  await problem.filter({ hasText: expected }).waitFor({ timeout: 5_000 });
  assert.equal(await panel.locator(".mevlab-policy-promote").isDisabled(), true, "a bad ladder cannot be promoted");
  await ladder.fill("0.5, 0.75, 0.9");
  await problem.filter({ hasText: expected }).waitFor({ state: "detached", timeout: 5_000 });
  assert.equal(await problem.textContent(), "");
  const diff = panel.locator(".mevlab-policy-editor .mevlab-policy-diff");
  assert.equal(
    await diff.locator('tr[data-field="model"] .mevlab-policy-diff-to').textContent(),
    `→ xgb · ${a.id.slice(0, 12)}`,
  );
  assert.equal(await diff.locator('tr[data-field="ev_min"] .mevlab-policy-diff-to').textContent(), "→ 0.0003");
  assert.equal(
    await diff.locator('tr[data-field="tip_ladder"] .mevlab-policy-diff-to').textContent(),
    "→ 0.5, 0.75, 0.9",
  );
  assert.equal(await diff.locator('tr[data-field="throttle_pct"]').count(), 0, "unchanged fields are not in the diff");

  await watchOutcome();
  await panel.locator(".mevlab-policy-promote").click();
  const dialog = page.locator(".jp-Dialog", { has: page.locator(".mevlab-policy-reason") });
  assert.equal(
    await dialog.locator(".mevlab-policy-diff tr[data-field=ev_min]").count(),
    1,
    "the dialog shows the diff",
  );
  await dialog.locator(".jp-Dialog-button.jp-mod-accept").click();
  await page
    .locator(".mevlab-policy-reason .mevlab-policy-problem", { hasText: "A reason is required" })
    .waitFor({ timeout: 5_000 });
  await giveReason("model A: a small baseline");
  versions.push(await appliedOnBothAgents(a.id));
  times.push(Date.now());
  const current = panel.locator(".mevlab-policy-current");
  assert.equal(await current.getAttribute("data-model"), a.id);
  assert.equal(await current.locator('dd[data-fact="ev_min"]').textContent(), "0.0003");
  assert.equal(await current.locator('dd[data-fact="tip ladder"]').textContent(), "0.5, 0.75, 0.9");
  assert.equal(await current.locator('.mevlab-policy-card dd[data-fact="model type"]').textContent(), "xgb");
  const auc = (a.card?.metrics as { test: { auc: number } }).test.auc;
  assert.equal(await current.locator('.mevlab-policy-card dd[data-fact="test AUC"]').textContent(), auc.toFixed(4));
  for (const agent of (await client.agents()).agents.filter((x) => x.module === "arbitrage")) {
    assert.equal(agent.model_id, a.id, `${agent.agent_id} runs model A`);
  }
});

test("model B promoted live, then a roll back to the first version from the history", async () => {
  await panel.locator("select[name=model]").selectOption(b.id);
  await panel.locator('.mevlab-policy-diff tr[data-field="model"]').waitFor();
  versions.push(await promoteFromEditor("model B: all default features", b.id));
  times.push(Date.now());

  const row = panel.locator(`.mevlab-policy-history tr[data-version="${versions[0]}"]`);
  await watchOutcome();
  await row.locator(".mevlab-policy-rollback").click();
  await giveReason("back to model A");
  versions.push(await appliedOnBothAgents(a.id));
  assert.equal(await panel.locator(".mevlab-policy-current").getAttribute("data-model"), a.id);
  const newest = panel.locator(`.mevlab-policy-history tr[data-version="${versions[2]}"][data-mode="rollback"]`);
  await newest.waitFor({ timeout: 10_000 });
  assert.match(
    (await newest.locator(".mevlab-policy-acks").textContent()) ?? "",
    /arbitrage-1 applied, arbitrage-2 applied/,
  );
  assert.equal(await newest.locator(".mevlab-policy-rollback").count(), 0, "no roll back to the version in force");
});

test("what was live at three times: the panel and GET /api/lineage?at= agree", async () => {
  assert.equal(versions.length, 3, "the promotions of the tests before");
  const input = panel.locator("input[name=lineage-at]");
  const expected = [
    [versions[0], a.id],
    [versions[1], b.id],
    [versions[2], a.id],
  ];
  for (const [i, at] of [pickable(times[0]), pickable(times[1]), pickable(Date.now())].entries()) {
    await input.fill(localInputValue(at));
    await panel.locator(".mevlab-policy-at-button").click();
    const result = panel.locator(`.mevlab-policy-at-result[data-at="${at}"] .mevlab-policy-chain`);
    await result.waitFor({ timeout: 10_000 });
    const api = await lineage(client, "arbitrage", at);
    const fact = async (k: string) => (await result.locator(`dd[data-fact="${k}"]`).textContent()) ?? "";
    assert.deepEqual([api.version, api.model?.id], expected[i].map(String), `the API at ${new Date(at).toISOString()}`);
    assert.deepEqual(
      [await result.getAttribute("data-version"), await result.getAttribute("data-model")],
      [api.version, api.model?.id],
      `the panel at ${new Date(at).toISOString()}`,
    );
    assert.equal(await fact("author"), api.author);
    assert.equal(await fact("reason"), api.reason);
    assert.equal(await fact("mode"), api.mode);
    const dataset = api.dataset as { id: string; rows: number };
    assert.match(dataset.id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await fact("dataset"), `${dataset.id} (${dataset.rows} rows)`);
    assert.match(await fact("acks"), /arbitrage-1 applied, arbitrage-2 applied/);
    const p = fromWireJson(PolicySchema, api.policy as JsonValue);
    assert.equal(await fact("policy"), `ev_min ${p.evMin} · ladder ${p.tipLadder.join(", ")} · throttle 0% · kill off`);
    assert.equal(p.evMin, 0.0003, "every version here kept the first promotion's ev_min");
  }
  await screenshot("ui-policy-lineage.png");
});

test("model B deployed in shadow: the comparison fills for 60 s and 600 s; light and dark screenshots", async () => {
  await panel.locator("select[name=model]").selectOption(b.id);
  await watchOutcome();
  await panel.locator(".mevlab-policy-shadow-deploy").click();
  await giveReason("B beside A");
  versions.push(await appliedOnBothAgents(a.id));
  const shadow = panel.locator('.mevlab-policy-shadow[data-active="true"]');
  await shadow.waitFor({ timeout: 10_000 });
  for (const w of ["60", "600"]) {
    const table = shadow.locator(`.mevlab-policy-shadow-table[data-window="${w}"]`);
    const cell = (side: string, metric: string) => table.locator(`td[data-side="${side}"][data-metric="${metric}"]`);
    await cell("both", "opportunities")
      .filter({ hasText: /^[1-9]\d*$/ })
      .waitFor({ timeout: 60_000 });
    await cell("shadow", "brier")
      .filter({ hasText: /^\d\.\d{4}$/ })
      .waitFor({ timeout: 30_000 });
    for (const side of ["live", "shadow"]) {
      assert.match((await cell(side, "ev_sol").textContent()) ?? "", /^-?\d+\.\d{6}$/);
      assert.match((await cell(side, "accepted").textContent()) ?? "", /^\d+$/);
      assert.match((await cell(side, "mean_p").textContent()) ?? "", /^\d\.\d{4}$/);
    }
    assert.match((await cell("both", "agreement").textContent()) ?? "", /^\d\.\d{4}$/);
    assert.match((await cell("both", "landed_rate").textContent()) ?? "", /^\d\.\d{4}$/);
  }
  assert.deepEqual([await shadow.getAttribute("data-live"), await shadow.getAttribute("data-shadow")], [a.id, b.id]);
  await screenshotThemes(page, ".mevlab-policy", "ui-policy", 2200);
});

test("a viewer sees the policy, history and shadow, with no mutating button", async () => {
  await switchUser(page, stack.viewer, "viewer", "mevlab policy");
  await panel
    .locator(".mevlab-policy-message", { hasText: /changing them needs an admin/ })
    .waitFor({ timeout: 10_000 });
  await panel.locator(`.mevlab-policy-current[data-version="${versions[3]}"]`).waitFor({ timeout: 10_000 });
  await panel.locator(`.mevlab-policy-history tr[data-version="${versions[0]}"]`).waitFor();
  await panel
    .locator('.mevlab-policy-shadow-table[data-window="60"] td[data-metric="opportunities"]')
    .filter({ hasText: /^[1-9]/ })
    .waitFor({ timeout: 15_000 });
  for (const button of [
    ".mevlab-policy-promote",
    ".mevlab-policy-shadow-deploy",
    ".mevlab-policy-rollback",
    ".mevlab-policy-shadow-live",
    ".mevlab-policy-shadow-drop",
  ]) {
    assert.equal(await panel.locator(button).filter({ visible: true }).count(), 0, `${button} shown to a viewer`);
  }
  assert.equal(await panel.locator("input[name=ev_min]").isDisabled(), true);
  assert.equal(await panel.locator("select[name=model]").isDisabled(), true);
  await screenshot("ui-policy-viewer.png");
});

test("back as admin, the shadow is made live on both agents", async () => {
  await switchUser(page, stack.admin, "admin", "mevlab policy");
  const live = panel.locator(".mevlab-policy-shadow-live");
  await live.waitFor({ timeout: 10_000 });
  await watchOutcome();
  await live.click();
  await giveReason("B scored better in shadow");
  await appliedOnBothAgents(b.id);
  await panel.locator('.mevlab-policy-shadow[data-active="false"]').waitFor({ timeout: 10_000 });
  assert.equal(await panel.locator(".mevlab-policy-current").getAttribute("data-model"), b.id);
  const policy = await client.policy("arbitrage");
  assert.deepEqual([policy.current.modelId, policy.current.shadow], [b.id, undefined]);
  assert.equal((await lineage(client, "arbitrage")).mode, "shadow_to_live");
});
