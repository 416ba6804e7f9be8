// The Audit panel in real JupyterLab and Debian's Chromium, against the embedded control plane: an
// admin throttles the MEV agent and a viewer's throttle and audit reads are refused (all through the
// API); the admin opens the panel and sees those records, filters by user and outcome, loads more,
// exports the filtered records as CSV and sees the chain verified; a viewer is told the log is for
// admins. Screenshots (light and dark) go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { ControlPlaneClient, nodeTransport } from "@mevlab/kernel-helpers";
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
const HEADER = "ts,user,role,action,target,outcome,reason,request_id,ip";
/** The viewer's refused reads: more than the panel's first page (500), so "load more" has work. */
const REFUSED_READS = 520;

interface AuditList {
  records: Array<Record<string, string>>;
  matched: number;
}

let stack: Stack;
let admin: ControlPlaneClient;
let viewer: ControlPlaneClient;
let browser: Browser;
let page: Page;
let panel: Locator;

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await embeddedStack({ lab: true });
  admin = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
  viewer = await ControlPlaneClient.login({ url: stack.url, ...stack.viewer, transport: nodeTransport });
  await waitForAgents(admin, ["mev-1"], 60_000);
  await admin.command("mev", "throttle", { throttle_pct: 30 });
  await assert.rejects(viewer.command("mev", "throttle", { throttle_pct: 50 }), /403|forbidden|admin/i);
  for (let i = 0; i < REFUSED_READS; i += 20) {
    const batch = Array.from({ length: Math.min(20, REFUSED_READS - i) }, () => viewer.get("/api/audit"));
    const results = await Promise.allSettled(batch);
    assert.ok(
      results.every((r) => r.status === "rejected"),
      "a viewer cannot read the audit log",
    );
  }
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
});

after(async () => {
  await browser?.close();
  await admin?.close();
  await viewer?.close();
  await stack?.stop();
});

/** What GET /api/audit answers the admin for a query, now. */
function api(query: string): Promise<AuditList> {
  return admin.get<AuditList>(`/api/audit?${query}`);
}

/** Waits until the panel shows the answer to `query` (its filters plus the limit). */
async function shown(query: string): Promise<void> {
  const attr = query.replaceAll('"', '\\"');
  await page.locator(`.mevlab-audit[data-query="${attr}"]:not([data-loading])`).waitFor({ timeout: 15_000 });
}

/** The rows' values in one column, top to bottom. */
function column(col: string): Promise<string[]> {
  return panel.locator(`.mevlab-audit-table tbody td[data-col="${col}"]`).allTextContents();
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(RESULTS, name) });
}

test("an admin opens the Audit panel: the throttle, the viewer's refusals, and the chain verified", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.admin);
  await openPalette(page, "mevlab: Audit");
  panel = page.locator(".mevlab-audit");
  await shown("limit=500");
  const all = await api("limit=500");
  assert.ok(all.matched > REFUSED_READS, `matched ${all.matched}`);
  const count = panel.locator(".mevlab-audit-count");
  assert.deepEqual(
    [await count.getAttribute("data-shown"), await count.getAttribute("data-matched")],
    ["500", String(all.matched)],
  );
  assert.deepEqual(
    await column("user"),
    all.records.map((r) => r.user ?? ""),
    "the newest 500, as the API has them",
  );
  assert.deepEqual(
    await column("action"),
    all.records.map((r) => r.action ?? ""),
  );

  await panel.locator("select[name=module]").selectOption("mev");
  await panel.locator(".mevlab-audit-apply").click();
  await shown("module=mev&limit=500");
  const throttle = panel.locator(`tr[data-user="${stack.admin.username}"][data-action="control.throttle"]`);
  assert.equal(await throttle.count(), 1);
  assert.equal(await throttle.locator('td[data-col="outcome"]').textContent(), "accepted");
  assert.match((await throttle.locator('td[data-col="target"]').textContent()) ?? "", /mev/);
  assert.equal(await throttle.locator('td[data-col="role"]').textContent(), "admin");
  const refused = panel.locator(`tr[data-user="${stack.viewer.username}"][data-outcome="denied"]`);
  assert.equal(await refused.count(), 1, "the viewer's throttle, refused");
  assert.equal(await refused.locator('td[data-col="role"]').textContent(), "viewer");
  await panel.locator("select[name=module]").selectOption("");
  const verified = panel.locator('.mevlab-audit-verification[data-state="ok"] .mevlab-audit-verified');
  await verified.waitFor({ timeout: 15_000 });
  const verify = await admin.get<{ ok: boolean; records: number }>("/api/audit/verify");
  assert.ok(verify.ok);
  assert.match((await verified.textContent()) ?? "", /^verified: \d+ records$/);
  assert.ok(Number(/\d+/.exec((await verified.textContent()) ?? "")?.[0]) >= all.matched);
});

test("filters: by user, then by outcome; the table follows, as the API answers", async () => {
  await panel.locator("input[name=user]").fill(stack.viewer.username);
  await panel.locator(".mevlab-audit-apply").click();
  await shown(`user=${stack.viewer.username}&limit=500`);
  const users = await column("user");
  assert.equal(users.length, 500);
  assert.ok(
    users.every((u) => u === stack.viewer.username),
    "only the viewer's records",
  );
  assert.equal(await panel.locator(".mevlab-audit-count").getAttribute("data-matched"), String(REFUSED_READS + 1));

  await panel.locator("input[name=user]").fill("");
  await panel.locator("select[name=module]").selectOption("mev");
  await panel.locator("select[name=outcome]").selectOption("denied");
  await panel.locator(".mevlab-audit-apply").click();
  await shown("module=mev&outcome=denied&limit=500");
  const expected = await api("module=mev&outcome=denied");
  assert.equal(expected.records.length, 1, "the viewer's throttle is the one refusal that names mev");
  assert.deepEqual(await column("outcome"), ["denied"]);
  assert.deepEqual(await column("user"), [stack.viewer.username]);
  assert.deepEqual(await column("action"), [expected.records[0].action]);

  await panel.locator("select[name=module]").selectOption("");
  await panel.locator(".mevlab-audit-apply").click();
  await shown("outcome=denied&limit=500");
  assert.ok((await column("outcome")).every((o) => o === "denied"));
  assert.equal(
    await panel.locator(`tr[data-user="${stack.admin.username}"]`).count(),
    0,
    "the admin was refused nothing",
  );
});

test("load more raises the limit until every matching record is shown", async () => {
  const more = panel.locator(".mevlab-audit-more");
  assert.equal(await more.isVisible(), true);
  await more.click();
  await shown("outcome=denied&limit=1000");
  const rows = await column("outcome");
  assert.equal(rows.length, (await api("outcome=denied&limit=1000")).matched);
  assert.ok(rows.length > 500, `${rows.length} rows`);
  assert.equal(await more.isVisible(), false, "nothing more to load");
});

test("Export CSV downloads the filtered records: the header, then the viewer's records", async () => {
  await panel.locator("input[name=user]").fill(stack.viewer.username);
  await panel.locator("select[name=outcome]").selectOption("");
  await panel.locator(".mevlab-audit-apply").click();
  await shown(`user=${stack.viewer.username}&limit=500`);
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 15_000 }),
    panel.locator(".mevlab-audit-export").click(),
  ]);
  assert.match(download.suggestedFilename(), /^mevlab-audit-.*\.csv$/);
  const lines = readFileSync(await download.path(), "utf8")
    .trimEnd()
    .split("\r\n");
  assert.equal(lines[0], HEADER);
  assert.equal(lines.length - 1, REFUSED_READS + 1, "every matching record, past the table's page");
  assert.ok(
    lines.slice(1).every((l) => l.split(",")[1] === stack.viewer.username),
    lines.slice(0, 5).join("\n"),
  );
});

test("light and dark screenshots of the records and the verified chain", async () => {
  await panel.locator("input[name=user]").fill("");
  await panel.locator(".mevlab-audit-apply").click();
  await shown("limit=500");
  await panel.locator(".mevlab-audit-verify").click();
  await panel.locator('.mevlab-audit-verification[data-state="ok"]').waitFor({ timeout: 15_000 });
  await screenshotThemes(page, ".mevlab-audit", "ui-audit");
});

test("a viewer is told the audit log is for admins", async () => {
  await switchUser(page, stack.viewer, "viewer", "mevlab audit");
  await panel
    .locator(".mevlab-audit-message", { hasText: /the audit log is for admins/i })
    .waitFor({ timeout: 10_000 });
  assert.equal(await panel.getAttribute("data-access"), "viewer");
  assert.equal(await panel.locator(".mevlab-audit-table").isVisible(), false, "no records shown to a viewer");
  assert.equal(await panel.locator(".mevlab-audit-export").isVisible(), false);
  await screenshot("ui-audit-viewer.png");
});
