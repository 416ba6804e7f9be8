// The extension in real JupyterLab and Debian's Chromium: log in, press Stop on MEV, see the state
// change and the ack latency. Screenshots go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { verifyDataset } from "@mevlab/kernel-helpers";
import { launchChromium, logInMevlabPanel, openMevlabPanel, screenshotThemes } from "../src/lab-page";
import { runNotebook } from "../src/notebook";
import { ROOT, embeddedStack, parquetParts, waitFor, type Stack } from "../src/stack";

const RESULTS = join(ROOT, "test-results");

let stack: Stack;
let browser: Browser;
let page: Page;

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await embeddedStack({ lab: true, rate: 3 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Loads the lab and opens the mevlab panel from the launcher. */
function openPanel(): Promise<void> {
  return openMevlabPanel(page, stack.labUrl!);
}

/** Logs the admin in through the panel's dialog. */
function logIn(): Promise<void> {
  return logInMevlabPanel(page, stack.admin);
}

/**
 * Set-up of the tests after the login test: the panel open and the admin logged in, doing only what
 * is missing. When the tests before passed, nothing; when one failed, its failure stays its own.
 */
async function ensureLoggedIn(): Promise<void> {
  if ((await page.locator(".mevlab-session", { hasText: `${stack.admin.username} (admin)` }).count()) > 0) return;
  if ((await page.locator(".mevlab-panel").count()) === 0) await openPanel();
  if ((await page.locator(".jp-Dialog").count()) > 0) await page.keyboard.press("Escape");
  await logIn();
}

test("the mevlab extension is loaded and opens from the launcher", async () => {
  await openPanel();
  assert.match((await page.locator(".mevlab-session").textContent()) ?? "", /Not logged in/);
});

test("an admin logs in and sees both agents running", async () => {
  await logIn();
  await page.locator('.mevlab-state[data-module="mev"]', { hasText: "mev-1: running" }).waitFor();
  await page.locator('.mevlab-state[data-module="arbitrage"]', { hasText: "arbitrage-1: running" }).waitFor();
});

test("Stop on MEV stops the MEV agent, shows the ack latency, and leaves arbitrage running", async () => {
  await ensureLoggedIn();
  await page.locator('button[data-action="stop"][data-module="mev"]').click();
  const ack = page.locator('.mevlab-ack[data-module="mev"]');
  await ack.filter({ hasText: /stop: applied in [0-9.]+ ms by mev-1/ }).waitFor();
  await page.locator('.mevlab-state[data-module="mev"]', { hasText: "mev-1: stopped" }).waitFor();
  const latency = Number(/in ([0-9.]+) ms/.exec((await ack.textContent()) ?? "")?.[1]);
  assert.ok(latency > 0 && latency < 5_000, `ack latency ${latency} ms`);
  assert.match(
    (await page.locator('.mevlab-state[data-module="arbitrage"]').textContent()) ?? "",
    /arbitrage-1: running/,
  );
  await page.screenshot({ path: join(RESULTS, "ui-control-stop-mev.png") });
});

test("the live table fills with opportunities from the agents", async () => {
  await ensureLoggedIn();
  await page.locator(".mevlab-caption", { hasText: /^[1-9][0-9,]* shown/ }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(RESULTS, "ui-live-table.png") });
});

test("changing the live table's rows in the Settings Editor keeps the session", async () => {
  await ensureLoggedIn();
  // Only a new control plane URL ends the session; any other setting used to log the user out.
  await page.keyboard.press("Control+,");
  await page.locator(".jp-PluginList-entry", { hasText: "mevlab" }).first().click();
  const rows = page.locator('input[id$="maxRows"]');
  await rows.waitFor({ timeout: 30_000 });
  await rows.fill("500");
  await rows.press("Tab");
  const labUrl = new URL(stack.labUrl!);
  const saved = async () => {
    const res = await fetch(`${labUrl.origin}/lab/api/settings/@mevlab/extension:plugin`, {
      headers: { authorization: `token ${labUrl.searchParams.get("token")}` },
    });
    return ((await res.json()) as { settings?: { maxRows?: number } }).settings?.maxRows === 500 || undefined;
  };
  await waitFor("the setting saved by JupyterLab", saved, 30_000);
  await page.locator(".lm-TabBar-tab", { hasText: "mevlab" }).first().click();
  // Long enough for the settings change to reach the panel (it did, and logged out, at once).
  await new Promise((r) => setTimeout(r, 2_000));
  assert.equal(await page.locator(".jp-Dialog").count(), 0, "no login dialog");
  await page.locator(".mevlab-session", { hasText: `${stack.admin.username} (admin)` }).waitFor({ timeout: 5_000 });
  await page.screenshot({ path: join(RESULTS, "ui-settings-kept-session.png") });
});

test("the Datasets panel starts an export, shows its progress and its manifest", async () => {
  await ensureLoggedIn();
  // The sink writes the agents' events to the Parquet store every 5 s; wait until a part is there.
  await waitFor(
    "a Parquet part of arb opportunities in the store",
    () => parquetParts(stack.dataDir, "arb_opportunities").length > 0,
    60_000,
  );
  // Opened from the command palette, as a user would.
  await page.keyboard.press("Control+Shift+C");
  const search = page.locator(".lm-CommandPalette-input");
  await search.waitFor();
  await search.fill("mevlab: Datasets");
  await page.locator(".lm-CommandPalette-item", { hasText: "mevlab: Datasets" }).first().click();
  const panel = page.locator(".mevlab-datasets");
  await panel.waitFor();
  // A bad output is refused with the control plane's message, and no job appears.
  await panel.locator("input[name=output]").fill("../outside");
  await panel.locator(".mevlab-scrape-button").click();
  await panel.locator(".mevlab-datasets-message.mevlab-error", { hasText: /path traversal/ }).waitFor();
  assert.equal(await panel.locator(".mevlab-jobs tbody tr").count(), 0);
  await panel.locator("input[name=output]").fill("ui-dataset");
  await panel.locator("select[name=format]").selectOption("jsonl");
  await panel.locator("select[name=compress]").selectOption("gzip");
  await panel.locator(".mevlab-scrape-button").click();
  const row = panel.locator('.mevlab-jobs tr[data-state="succeeded"]');
  await row.waitFor({ timeout: 60_000 });
  assert.match((await row.locator(".mevlab-progress-text").textContent()) ?? "", /100%/);
  assert.match((await row.locator(".mevlab-job-output").textContent()) ?? "", /exports\/ui-dataset$/);
  await row.locator(".mevlab-show-manifest").click();
  const files = panel.locator(".mevlab-manifest-files tbody tr");
  await files.first().waitFor();
  assert.equal(await files.count(), 2);
  const shaText = await panel.locator(".mevlab-manifest-files .mevlab-sha").allTextContents();
  assert.ok(
    shaText.every((s) => /^[0-9a-f]{64}$/.test(s)),
    shaText.join(", "),
  );
  const rows = (await files.locator("td:nth-child(2)").allTextContents()).map((t) => Number(t.replace(/[^0-9]/g, "")));
  assert.ok(rows[0] + rows[1] > 0, `rows exported: ${rows.join(", ")}`);
  // The files on disk match the manifest the panel shows.
  const verified = await verifyDataset(join(stack.dataDir, "exports", "ui-dataset"));
  assert.ok(verified.ok);
  assert.deepEqual(
    verified.manifest.files.map((f) => f.sha256),
    shaText,
  );
  await screenshotThemes(page, ".mevlab-datasets", "ui-datasets");
});

test("notebooks/01-explore.ipynb, executed, shows its two plotly charts in JupyterLab", async () => {
  // Executed headless on the tslab kernel against this stack's store, then opened in the lab: the
  // plotly renderer from the project venv must draw both figures.
  runNotebook(
    "01-explore",
    { MEVLAB_DATA_DIR: stack.dataDir, MEVLAB_EXPORT_ROOTS: join(stack.dataDir, "exports"), CLICKHOUSE_URL: "" },
    join(RESULTS, "01-explore.executed.ipynb"),
  );
  await page.goto(stack.labUrl!.replace("/lab?", "/lab/tree/test-results/01-explore.executed.ipynb?"), {
    waitUntil: "domcontentloaded",
  });
  await page.locator(".jp-Notebook").waitFor({ timeout: 60_000 });
  const plots = page.locator(".js-plotly-plot");
  await plots.nth(1).waitFor({ timeout: 30_000 });
  assert.equal(await plots.count(), 2);
  assert.match((await plots.first().textContent()) ?? "", /Arbitrage opportunities per minute/);
  assert.match((await plots.nth(1).textContent()) ?? "", /MEV expected value by DEX/);
  await plots.first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(RESULTS, "ui-explore-charts.png") });
});
