// The Training panel in real JupyterLab and Debian's Chromium: an admin starts an XGBoost job from the
// form, watches it reach done on the WS job stream, opens its model card, trains a LightGBM model and
// compares the two. The agents fill the store through the sink. Screenshots (the comparison in light
// and dark) go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { launchChromium, logInMevlabPanel, openMevlabPanel, screenshotThemes, switchUser } from "../src/lab-page";
import { ROOT, embeddedStack, parquetParts, waitFor, type Stack } from "../src/stack";

const RESULTS = join(ROOT, "test-results");
const DAY = 86_400_000;

let stack: Stack;
let browser: Browser;
let page: Page;
let panel: Locator;
const modelIds: Record<string, string> = {};

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  // A high rate: a few sink flushes (every 5 s) hold enough rows for a time-ordered three-way split.
  stack = await embeddedStack({ lab: true, rate: 100 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

interface Card {
  id: string;
  model: string;
  metrics: { test: { auc: number; logloss: number; brier: number } };
}

function cardOnDisk(id: string): Card {
  return JSON.parse(readFileSync(join(stack.dataDir, "models", id, "card.json"), "utf8")) as Card;
}

/** Fills the form for `model` with small parameters, starts it, and waits for its row to reach done. */
async function train(model: "xgb" | "lgbm"): Promise<Locator> {
  // One day either side of today: the agents' rows are in the range whatever the hour (UTC).
  await panel.locator("input[name=from]").fill(isoDay(Date.now() - DAY));
  await panel.locator("input[name=to]").fill(isoDay(Date.now() + DAY));
  await panel.locator("select[name=module]").selectOption("arbitrage");
  await panel.locator("select[name=features]").selectOption("default");
  await panel.locator("select[name=model]").selectOption(model);
  await panel.locator("select[name=gpu]").selectOption("off");
  await panel.locator("input[name=max_depth]").fill("3");
  await panel.locator("input[name=learning_rate]").fill("0.3");
  const more = panel.locator(".mevlab-more-params");
  if (!(await more.evaluate((d) => d.hasAttribute("open")))) await more.locator("summary").click();
  await panel.locator("input[name=n_estimators]").fill("20");
  await panel.locator("input[name=seed]").fill("7");
  await panel.locator("input[name=early_stopping_rounds]").fill("5");
  await panel.locator(".mevlab-train-button").click();
  const started = panel.locator(".mevlab-training-message", { hasText: /training job (\S+) started/ });
  await started.waitFor({ timeout: 15_000 });
  const id = /training job (\S+) started/.exec((await started.textContent()) ?? "")![1];
  const row = panel.locator(`.mevlab-training-jobs tr[data-job="${id}"]`);
  const done = row.and(page.locator('[data-state="succeeded"], [data-state="failed"], [data-state="cancelled"]'));
  await done.waitFor({ timeout: 90_000 });
  if ((await row.getAttribute("data-state")) !== "succeeded") {
    await row.locator(".mevlab-show-log").click();
    assert.fail(
      `${model} job: ${await row.textContent()}\n${await panel.locator(".mevlab-training-log").textContent()}`,
    );
  }
  return row;
}

test("an admin opens the Training panel; the form is enabled", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.admin);
  await page.keyboard.press("Control+Shift+C");
  const search = page.locator(".lm-CommandPalette-input");
  await search.waitFor();
  await search.fill("mevlab: Training");
  await page.locator(".lm-CommandPalette-item", { hasText: "mevlab: Training" }).first().click();
  panel = page.locator(".mevlab-training");
  await panel.waitFor();
  assert.equal(await panel.locator(".mevlab-train-button").isDisabled(), false);
  await waitFor(
    "two Parquet parts of arb opportunities in the store",
    () => parquetParts(stack.dataDir, "arb_opportunities").length >= 2,
    60_000,
  );
});

test("an XGBoost job started from the form reaches done, with its progress, and its card opens", async () => {
  const row = await train("xgb");
  assert.match((await row.locator(".mevlab-progress-text").textContent()) ?? "", /^100% done/);
  assert.match((await row.locator("td").nth(4).textContent()) ?? "", /^0\.\d{4}$/, "validation AUC shown");
  const open = row.locator(".mevlab-open-card");
  assert.equal(await open.count(), 1);
  modelIds.xgb = (await open.getAttribute("data-model"))!;
  assert.match(modelIds.xgb, /^[0-9a-f]{64}$/);
  await open.click();
  const card = panel.locator(`.mevlab-model-card[data-model="${modelIds.xgb}"]`);
  await card.waitFor({ timeout: 10_000 });
  const onDisk = cardOnDisk(modelIds.xgb);
  assert.equal(await card.locator('dd[data-fact="model id"]').textContent(), modelIds.xgb);
  assert.equal(await card.locator('dd[data-fact="device"]').textContent(), "cpu");
  assert.match((await card.locator('dd[data-fact="dataset"]').textContent()) ?? "", /^sha256:[0-9a-f]{64}$/);
  assert.match((await card.locator('dd[data-fact="params"]').textContent()) ?? "", /"max_depth":3/);
  const testRow = card.locator('tr[data-split="test"]');
  assert.equal(await testRow.locator(".mevlab-metric-auc").textContent(), onDisk.metrics.test.auc.toFixed(4));
  assert.equal(await testRow.locator(".mevlab-metric-logloss").textContent(), onDisk.metrics.test.logloss.toFixed(4));
  assert.equal(await testRow.locator(".mevlab-metric-brier").textContent(), onDisk.metrics.test.brier.toFixed(4));
  await card.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(RESULTS, "ui-training-card.png") });
});

test("a LightGBM job, then the two models compared side by side on the test split", async () => {
  assert.ok(modelIds.xgb, "the XGBoost model of the test before");
  const row = await train("lgbm");
  modelIds.lgbm = (await row.locator(".mevlab-open-card").getAttribute("data-model"))!;
  await panel.locator("select[name=compare-a]").selectOption(modelIds.xgb);
  await panel.locator("select[name=compare-b]").selectOption(modelIds.lgbm);
  await panel.locator(".mevlab-compare-button").click();
  const view = panel.locator(".mevlab-compare-view");
  await view.waitFor({ timeout: 10_000 });
  const head = await view.locator("thead th").allTextContents();
  assert.deepEqual(head, ["", `xgb · ${modelIds.xgb.slice(0, 12)}`, `lgbm · ${modelIds.lgbm.slice(0, 12)}`]);
  const [a, b] = [cardOnDisk(modelIds.xgb), cardOnDisk(modelIds.lgbm)];
  const auc = await view.locator("tbody tr").first().locator("td").allTextContents();
  assert.deepEqual(auc, [a.metrics.test.auc.toFixed(4), b.metrics.test.auc.toFixed(4)]);
  assert.equal(await view.locator("svg.mevlab-compare-chart rect").count(), 6, "three metrics, two bars each");
  await view.scrollIntoViewIfNeeded();
  await screenshotThemes(page, ".mevlab-training", "ui-training-compare");
});

test("a viewer sees the jobs and opens cards, but the form is disabled with a note", async () => {
  assert.ok(modelIds.xgb, "the XGBoost model of the tests before");
  await switchUser(page, stack.viewer, "viewer", "mevlab training");
  await panel.locator(".mevlab-training-message", { hasText: /training needs an admin/ }).waitFor({ timeout: 10_000 });
  assert.equal(await panel.locator(".mevlab-train-button").isDisabled(), true);
  assert.equal(await panel.locator("select[name=model]").isDisabled(), true);
  const row = panel.locator('.mevlab-training-jobs tr[data-state="succeeded"]');
  await row.nth(1).waitFor({ timeout: 10_000 });
  assert.equal(await panel.locator(".mevlab-cancel-job").count(), 0);
  await panel.locator(`.mevlab-open-card[data-model="${modelIds.xgb}"]`).click();
  await panel.locator(`.mevlab-model-card[data-model="${modelIds.xgb}"]`).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(RESULTS, "ui-training-viewer.png") });
});
