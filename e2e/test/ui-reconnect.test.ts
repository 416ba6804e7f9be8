// The session through a bad day, in real JupyterLab and Debian's Chromium against `mevlab up`, with a
// TCP relay between the browser and the control plane that the test cuts (issue 23):
// - the control plane unreachable: the status bar and the panel say so and when they retry; it comes
//   back, the stream resumes and shows what the agents did meanwhile, without a new login;
// - the session ended under the panels (the admin's password changed): a login dialog asks at once,
//   with the user filled in; the same user logs in and every panel keeps what it showed (the Audit
//   panel's filter and rows); cancelled, the status bar offers the login; another user (a viewer) is a
//   new session, and the Audit panel shows an admin's records no more.
// Screenshots go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ControlPlaneClient, nodeTransport } from "@mevlab/kernel-helpers";
import { launchChromium, logInMevlabPanel, openMevlabPanel, openPalette } from "../src/lab-page";
import { ROOT, embeddedStack, mevlab, writeLabSettings, type Stack } from "../src/stack";
import { TcpProxy } from "../src/tcp-proxy";

const RESULTS = join(ROOT, "test-results");
let stack: Stack;
let proxy: TcpProxy;
let browser: Browser;
let page: Page;
let admin: ControlPlaneClient;

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await embeddedStack({ lab: true, rate: 5 });
  proxy = await TcpProxy.start({ host: "127.0.0.1", port: Number(new URL(stack.url).port) });
  writeLabSettings(stack, { controlPlaneUrl: proxy.url }); // the extension talks through the relay
  admin = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

after(async () => {
  await browser?.close();
  await admin?.close();
  await proxy?.cut();
  await stack?.stop();
});

const status = (link: string) => page.locator(`.mevlab-status-item[data-link="${link}"]`);
const agentRow = (id: string) => page.locator(`.mevlab-agents li[data-agent="${id}"]`);

test("the control plane unreachable: said, retried, and the stream resumes without a new login", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.admin);
  await status("connected").waitFor();
  await agentRow("mev-1").locator(".mevlab-agent-state", { hasText: "running" }).waitFor({ timeout: 30_000 });

  await proxy.cut();
  await status("reconnecting").waitFor({ timeout: 10_000 });
  const session = page.locator(".mevlab-session");
  await session.filter({ hasText: `control plane unreachable at ${proxy.url}` }).waitFor();
  // It keeps trying, saying when: the third try waits 4 s.
  await session.filter({ hasText: "retrying in 4 s" }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(RESULTS, "ui-reconnect-unreachable.png") });

  // Meanwhile an admin elsewhere throttles mev to 40 %: the panel learns it once it is back.
  const r = await admin.command("mev", "throttle", { throttle_pct: 40 });
  assert.equal(r.outcome?.agentId, "mev-1");
  await proxy.restore();
  await status("connected").waitFor({ timeout: 20_000 });
  await session.filter({ hasText: `${stack.admin.username} (admin) · ${proxy.url}` }).waitFor();
  await agentRow("mev-1").locator(".mevlab-agent-throttle", { hasText: "40%" }).waitFor({ timeout: 10_000 });
  // The same session: a command from the panel works.
  await page.locator('.mevlab-throttle-number[data-module="mev"]').fill("0");
  await page.locator('button[data-action="throttle"][data-module="mev"]').click();
  await page
    .locator('.mevlab-ack[data-module="mev"]')
    .filter({ hasText: /^throttle: applied in [0-9.]+ ms by mev-1$/ })
    .waitFor({ timeout: 15_000 });
});

/** Changes the admin's password: every token of theirs is refused at once (their sessions end). */
function newAdminPassword(password: string): void {
  mevlab(["user", "passwd", stack.admin.username, "--data-dir", stack.dataDir], { MEVLAB_PASSWORD: password });
  stack.admin.password = password;
}

test("a session that ends under the panels asks to log in; the same user carries on where they were", async () => {
  await openPalette(page, "mevlab: Audit");
  const audit = page.locator(".mevlab-audit");
  await audit.locator("select[name=module]").selectOption("mev");
  await audit.locator(".mevlab-audit-apply").click();
  await page.locator('.mevlab-audit[data-query="module=mev&limit=500"]:not([data-loading])').waitFor();
  const rows = await audit.locator(".mevlab-audit-table tbody tr").count();
  assert.ok(rows >= 2, `${rows} audited mev actions`);

  newAdminPassword("a-new-admin-password");
  const dialog = page.locator(".jp-Dialog", { has: page.locator(".mevlab-login") });
  await dialog.filter({ hasText: /password or status changed.*log in again/ }).waitFor({ timeout: 5_000 });
  await status("expired").waitFor();
  assert.equal(await dialog.locator("input[name=username]").inputValue(), stack.admin.username);
  await page.screenshot({ path: join(RESULTS, "ui-reconnect-expired.png") });
  await dialog.locator("input[name=password]").fill(stack.admin.password);
  await dialog.locator(".jp-Dialog-button.jp-mod-accept").click();
  await status("connected").waitFor();

  // The Audit panel kept its filter and its rows: nothing was reset.
  assert.equal(await audit.locator("select[name=module]").inputValue(), "mev");
  assert.equal(await audit.locator(".mevlab-audit-table tbody tr").count(), rows);
  assert.equal(await audit.getAttribute("data-query"), "module=mev&limit=500");
});

test("cancelled, the status bar offers the login; another user is a new session: the admin's view goes", async () => {
  newAdminPassword("a-third-admin-password");
  const dialog = page.locator(".jp-Dialog", { has: page.locator(".mevlab-login") });
  await dialog.waitFor({ timeout: 5_000 });
  await dialog.locator(".jp-Dialog-button.jp-mod-reject").click();
  await dialog.waitFor({ state: "detached" });
  await status("expired").click();
  await dialog.waitFor();
  await dialog.locator("input[name=username]").fill(stack.viewer.username);
  await dialog.locator("input[name=password]").fill(stack.viewer.password);
  await dialog.locator(".jp-Dialog-button.jp-mod-accept").click();
  await page.locator(".mevlab-status-item", { hasText: `${stack.viewer.username} (viewer)` }).waitFor();
  const audit = page.locator(".mevlab-audit");
  await page.locator('.mevlab-audit[data-access="viewer"]').waitFor();
  assert.equal(await audit.locator(".mevlab-audit-table tbody tr").count(), 0, "no admin records left on screen");
});
