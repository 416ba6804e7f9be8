// Sessions in the extension, in real JupyterLab and Chromium (issue 20). Access tokens live 6 s
// here (MEVLAB_ACCESS_TTL_S) instead of 15 minutes: the panel refreshes its session and stays logged
// in, its live stream open, past several of them; Log out ends the session on the control plane; and
// `mevlab user disable` ends a logged-in viewer's panel at once. Screenshots go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, logInMevlabPanel, openMevlabPanel } from "../src/lab-page";
import { ROOT, embeddedStack, mevlab, type Stack } from "../src/stack";

const RESULTS = join(ROOT, "test-results");
const TTL_S = 6;

let stack: Stack;
let browser: Browser;
let page: Page;
/** Every refresh the page made, and the last bearer token it sent to the control plane. */
let refreshes = 0;
let lastToken = "";

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  process.env.MEVLAB_ACCESS_TTL_S = String(TTL_S);
  stack = await embeddedStack({ lab: true, rate: 3 });
  delete process.env.MEVLAB_ACCESS_TTL_S;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("request", (req) => {
    if (!req.url().startsWith(stack.url)) return;
    if (req.url().endsWith("/api/auth/refresh")) refreshes += 1;
    const auth = req.headers()["authorization"];
    if (auth) lastToken = auth.slice("Bearer ".length);
  });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const session = () => page.locator(".mevlab-session");

test("the panel stays logged in past three access tokens: its stream stays open and a command works", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.admin);
  await page.waitForTimeout(3.5 * TTL_S * 1000);
  assert.ok(refreshes >= 3, `${refreshes} refreshes in ${3.5 * TTL_S} s`);
  assert.match((await session().textContent()) ?? "", new RegExp(`${stack.admin.username} \\(admin\\)`));
  await page.locator('button[data-action="stop"][data-module="mev"]').click();
  await page.locator('.mevlab-ack[data-module="mev"]', { hasText: /stop: applied in [0-9.]+ ms by mev-1/ }).waitFor();
  // The ack arrived on the live stream opened at login, three access tokens ago.
  await page.locator('button[data-action="start"][data-module="mev"]').click();
  await page.locator('.mevlab-state[data-module="mev"]', { hasText: "mev-1: running" }).waitFor();
  await page.screenshot({ path: join(RESULTS, "ui-session-refreshed.png") });
});

test("Log out ends the session on the control plane: its last token is refused", async () => {
  const token = lastToken;
  assert.equal((await fetch(`${stack.url}/api/agents`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  await page.locator(".mevlab-login-button", { hasText: "Log out" }).click();
  await session()
    .filter({ hasText: /Not logged in/ })
    .waitFor();
  const deadline = Date.now() + 5_000;
  let status = 200;
  while (status === 200 && Date.now() < deadline) {
    status = (await fetch(`${stack.url}/api/agents`, { headers: { authorization: `Bearer ${token}` } })).status;
  }
  assert.equal(status, 401);
});

test("`mevlab user disable` ends a logged-in viewer's panel within a second", async () => {
  await logInMevlabPanel(page, stack.viewer, "viewer");
  mevlab(["user", "disable", stack.viewer.username, "--data-dir", stack.dataDir]);
  const disabled = Date.now();
  await session()
    .filter({ hasText: /Not logged in .*disabled/ })
    .waitFor({ timeout: 5_000 });
  const ms = Date.now() - disabled;
  assert.ok(ms < 1_000, `the panel noticed after ${ms} ms`);
  await page.screenshot({ path: join(RESULTS, "ui-session-disabled.png") });
});
