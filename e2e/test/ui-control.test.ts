// The control cards in real JupyterLab and Debian's Chromium, against `mevlab up` (one agent per
// module): the metric cards and the node card, a row per agent (state, throttle, policy, model, last
// seen), throttle to 30 % from the slider's number, Kill and Kill all each asking first — cancelling
// sends nothing (the audit log says so) — Kill all from the palette too, and a viewer with no mutating
// control. Screenshots, light and dark, go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, logInMevlabPanel, openMevlabPanel, openPalette, screenshotThemes } from "../src/lab-page";
import { ROOT, embeddedStack, login, type Stack } from "../src/stack";

const RESULTS = join(ROOT, "test-results");
let stack: Stack;
let browser: Browser;
let page: Page;

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await embeddedStack({ lab: true, rate: 5 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** How many audited control actions named `action` there are (the API's own record of what was sent). */
let token = "";
async function audited(action: string): Promise<number> {
  token ||= await login(stack.url, stack.admin.username, stack.admin.password); // logins are rate-limited
  const res = await fetch(`${stack.url}/api/audit?action=${encodeURIComponent(action)}&outcome=accepted`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as { matched: number }).matched;
}

const row = (id: string) => page.locator(`.mevlab-agents li[data-agent="${id}"]`);
const ack = (module: string) => page.locator(`.mevlab-ack[data-module="${module}"]`);

/** Answers the confirmation dialog; returns its text. */
async function answer(accept: boolean): Promise<string> {
  const dialog = page.locator(".jp-Dialog");
  await dialog.waitFor();
  const text = (await dialog.textContent()) ?? "";
  await dialog.locator(accept ? ".jp-Dialog-button.jp-mod-warn" : ".jp-Dialog-button.jp-mod-reject").click();
  await dialog.waitFor({ state: "detached" });
  return text;
}

test("admin: agent rows, throttle to 30 %, Kill and Kill all ask first and cancelling sends nothing", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.admin);
  for (const id of ["arbitrage-1", "mev-1"]) {
    await row(id).locator(".mevlab-agent-state", { hasText: "running" }).waitFor({ timeout: 30_000 });
  }
  assert.match(
    (await row("mev-1").textContent()) ?? "",
    /mev-1running0%policy v0built-in estimate(just now|\d+ s ago)/,
  );

  // The metric cards fill from the once-a-second summary; `up` watches no node.
  await page
    .locator('.mevlab-metric[data-metric="hotpath"] .mevlab-metric-value', { hasText: /ms \/ [0-9.]+ ms/ })
    .waitFor({ timeout: 15_000 });
  await page.locator('.mevlab-metric[data-metric="store"] .mevlab-metric-value', { hasText: /rows\/s/ }).waitFor();
  await page.locator('.mevlab-node[data-state="not_configured"]', { hasText: "not configured" }).waitFor();

  await page.locator('.mevlab-throttle-number[data-module="mev"]').fill("30");
  assert.equal(await page.locator('.mevlab-throttle input[type=range][data-module="mev"]').inputValue(), "30");
  await page.locator('button[data-action="throttle"][data-module="mev"]').click();
  await ack("mev")
    .filter({ hasText: /^throttle: applied in [0-9.]+ ms by mev-1$/ })
    .waitFor({ timeout: 15_000 });
  await row("mev-1").locator(".mevlab-agent-throttle", { hasText: "30%" }).waitFor({ timeout: 10_000 });
  await row("mev-1").locator(".mevlab-agent-state", { hasText: "throttled" }).waitFor({ timeout: 10_000 });

  await page.locator('button[data-action="kill"][data-module="arbitrage"]').click();
  assert.match(await answer(false), /arbitrage-1 will stop trading at once/);
  await page.locator(".mevlab-kill-all").click();
  const killAllText = await answer(false);
  assert.match(killAllText, /arbitrage-1, mev-1 will stop trading at once/);
  // Kill and Kill all are both audited as control.kill (Kill all's target names both modules).
  assert.equal(await audited("control.kill"), 0, "cancelled: nothing sent");
  assert.equal(await row("arbitrage-1").getAttribute("data-state"), "running");

  await page.locator(".mevlab-kill-all").click();
  await answer(true);
  await page
    .locator(".mevlab-kill-all-outcome", {
      hasText: /^kill all: applied in [0-9.]+ ms by (arbitrage-1, mev-1|mev-1, arbitrage-1)$/,
    })
    .waitFor({ timeout: 15_000 });
  for (const id of ["arbitrage-1", "mev-1"])
    await row(id).locator(".mevlab-agent-state", { hasText: "killed" }).waitFor();
  await screenshotThemes(page, ".mevlab-panel", "ui-control");

  for (const m of ["arbitrage", "mev"]) {
    await page.locator(`button[data-action="start"][data-module="${m}"]`).click();
    await ack(m)
      .filter({ hasText: /^start: applied/ })
      .waitFor({ timeout: 15_000 });
  }
  await page.locator('button[data-action="restart"][data-module="mev"]').click();
  assert.match(await answer(true), /mev-1 will stop and start again/);
  await ack("mev")
    .filter({ hasText: /^restart: applied/ })
    .waitFor({ timeout: 15_000 });

  // From the palette: the same question, and this time the answer is yes.
  const before = await audited("control.kill");
  await openPalette(page, "mevlab: Kill all agents");
  assert.match(await answer(true), /arbitrage-1, mev-1 will stop trading at once/);
  const toast = page.locator(".jp-toast-message, .Toastify__toast", { hasText: /kill all:/ }).first();
  await toast.waitFor({ timeout: 15_000 });
  assert.match((await toast.textContent()) ?? "", /kill all: applied/);
  const after = await audited("control.kill");
  assert.equal(after, before + 1, `control.kill audited ${before} times before the palette, ${after} after`);
});

test("viewer: the same cards and rows, no mutating control", async () => {
  await page.locator(".mevlab-login-button").click(); // log out
  await page.locator(".mevlab-session", { hasText: "Not logged in" }).waitFor();
  await logInMevlabPanel(page, stack.viewer, "viewer");
  await row("mev-1").waitFor();
  for (const sel of ["button[data-action]", ".mevlab-throttle", ".mevlab-kill-all"]) {
    const visible = await page
      .locator(sel)
      .evaluateAll(
        (els) => els.filter((e) => (e as unknown as { offsetParent: unknown }).offsetParent !== null).length,
      );
    assert.equal(visible, 0, `${sel} hidden for viewers`);
  }
  await page.screenshot({ path: join(RESULTS, "ui-control-viewer.png") });
});
