// The live stream in real JupyterLab and Debian's Chromium, against `mevlab up` (one agent per module)
// through a TCP relay the test can cut: both tabs filling, a DEX filter and a min-net-SOL filter applied
// by the control plane (every row shown matches), pause (the table still while arrivals are counted) and
// resume, a row's detail with the whole event, Open in notebook's toolbar button, and a reconnect after
// a real outage resuming with since_seq, the events the replay buffer no longer held shown as a gap;
// the session ended under the panel (the admin's password changed) and the same user logging in again:
// the rows, the pause and the detail kept, the stream resumed where it stopped; then a logout and a
// viewer's login: a new session, none of the admin's rows, details or pause left on screen; filters
// applied while the socket opens, and a handshake the control plane never answers (the live socket's
// subscribe frame held by the test); an access token that expired unrefreshed (4001, the refresh
// blocked for a while) reopening the stream with a fresh token.
// Screenshots, light and dark, go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { launchChromium, logInMevlabPanel, openMevlabPanel, screenshotThemes } from "../src/lab-page";
import { LiveSubscribeGate } from "../src/live-page";
import { embeddedStack, login, mevlab, waitFor, writeLabSettings, type Stack } from "../src/stack";
import { TcpProxy } from "../src/tcp-proxy";

/** Events/s per agent: enough that an outage of a few seconds outruns the replay buffer (10,000 per stream). */
const RATE = 1000;
/** Access tokens of 30 s (refreshed 7.5 s before they expire): a token can expire unrefreshed within a test. */
const ACCESS_TTL_S = 30;
let stack: Stack;
let proxy: TcpProxy;
let browser: Browser;
let page: Page;

before(async () => {
  process.env.MEVLAB_ACCESS_TTL_S = String(ACCESS_TTL_S);
  stack = await embeddedStack({ lab: true, rate: RATE });
  delete process.env.MEVLAB_ACCESS_TTL_S;
  proxy = await TcpProxy.start({ host: "127.0.0.1", port: Number(new URL(stack.url).port) });
  // The lab reads its user settings when the page loads: the extension talks through the relay.
  writeLabSettings(stack, { controlPlaneUrl: proxy.url });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
});

after(async () => {
  await browser?.close();
  await proxy?.cut();
  await stack?.stop();
});

const stream = () => page.locator(".mevlab-live");
const tab = (module: string) => page.locator(`.mevlab-live-tab[data-module="${module}"]`);
const tabButton = (label: string) => page.locator(".mevlab-live-tabs .lm-TabBar-tab", { hasText: label });
const attr = async (module: string, name: string) => (await tab(module).getAttribute(`data-${name}`)) ?? "";
const num = async (module: string, name: string) => Number(await attr(module, name));

/** Waits until the tab's `data-name` satisfies `ok` (read in the page, no sleeps). */
async function until(module: string, name: string, ok: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    `(() => { const v = document.querySelector('.mevlab-live-tab[data-module="${module}"]')?.dataset["${name}"]; return v !== undefined && (${ok}); })()`,
    undefined,
    { timeout },
  );
}

/** Events of a module's opportunity stream the control plane has published, from /metrics (not through the relay). */
let token = "";
async function published(module: "arbitrage" | "mev"): Promise<number> {
  token ||= await login(stack.url, stack.admin.username, stack.admin.password); // logins are rate-limited
  const text = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) =>
    r.text(),
  );
  const stream = module === "mev" ? "mev_opportunity" : "arb_opportunity";
  const m = new RegExp(`^mevlab_ws_events_published_total\\{stream="${stream}"\\} (\\d+)`, "m").exec(text);
  return Number(m?.[1] ?? 0);
}

async function pause(): Promise<void> {
  await page.locator(".mevlab-live-pause", { hasText: "Pause" }).click();
  await page.locator('.mevlab-live[data-paused="true"]').waitFor();
}

async function resume(): Promise<void> {
  await page.locator(".mevlab-live-pause", { hasText: "Resume" }).click();
  await page.locator('.mevlab-live[data-paused="false"]').waitFor();
}

async function applyFilters(dexes: string, minNetSol: string): Promise<void> {
  await page.locator(".mevlab-filter-dex").fill(dexes);
  await page.locator(".mevlab-filter-min-net-sol").fill(minNetSol);
  await page.locator(".mevlab-filter-apply").click();
}

/** Clicks the shown row `row` (0: the newest) of a tab's grid and waits for its detail. */
async function openRow(module: string, row: number): Promise<Record<string, unknown>> {
  const box = (await tab(module).locator(".mevlab-grid").boundingBox())!;
  await page.mouse.click(box.x + 300, box.y + 24 + 22 * row + 11);
  const detail = tab(module).locator(".mevlab-detail");
  await detail.waitFor();
  return JSON.parse((await detail.locator(".mevlab-detail-json").textContent()) ?? "{}") as Record<string, unknown>;
}

test("both tabs fill with the agents' opportunities", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.admin);
  await until("arbitrage", "shown", "Number(v) > 0");
  assert.equal(await stream().getAttribute("data-module"), "arbitrage");
  await tabButton("MEV").click();
  await until("mev", "shown", "Number(v) > 0");
  assert.equal(await stream().getAttribute("data-module"), "mev");
  assert.equal(await page.locator(".mevlab-open-in-notebook").count(), 1);
});

test("pause freezes the table while arrivals are counted; resume shows them", async () => {
  await pause();
  const shown = await num("mev", "shown");
  const to = await attr("mev", "to");
  await until("mev", "pending", "Number(v) > 500");
  assert.equal(await num("mev", "shown"), shown, "rows shown while paused");
  assert.equal(await attr("mev", "to"), to, "time range while paused");
  assert.match((await page.locator(".mevlab-caption").textContent()) ?? "", /paused, [0-9,]+ new since/);
  await resume();
  await until("mev", "pending", "Number(v) < 500");
  assert.ok(Number(await attr("mev", "to")) > Number(to), "newer rows after resume");
});

test("a row's detail shows the whole event", async () => {
  await until("mev", "shown", "Number(v) > 1200");
  await pause();
  const event = await openRow("mev", 2);
  const detail = tab("mev").locator(".mevlab-detail");
  assert.equal(await detail.getAttribute("data-full"), "true");
  assert.equal(event.id, await detail.getAttribute("data-id"));
  for (const key of ["slot", "attacker", "victim_tx", "pool", "dex", "profit", "decision_meta", "features"]) {
    assert.ok(key in event, `${key} in ${JSON.stringify(event).slice(0, 200)}`);
  }
  await screenshotThemes(page, ".mevlab-panel", "ui-live-detail");
  // Older than the newest 1,000 rows: what the ring keeps, and why the rest is not here.
  const box = (await tab("mev").locator(".mevlab-grid").boundingBox())!;
  await page.mouse.move(box.x + 300, box.y + 200);
  await page.mouse.wheel(0, 22 * 1_100);
  await page.mouse.click(box.x + 300, box.y + 200);
  await detail.locator(".mevlab-detail-note", { hasText: "newest 1,000 rows" }).waitFor();
  assert.equal(await detail.getAttribute("data-full"), "false");
  const cells = JSON.parse((await detail.locator(".mevlab-detail-json").textContent()) ?? "{}") as Record<
    string,
    string
  >;
  assert.equal(cells.id, await detail.getAttribute("data-id"));
  assert.match(cells.sig, /^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
  await detail.locator(".mevlab-detail-close").click();
  await resume();
});

test("a DEX filter and a min net SOL filter are applied by the control plane", async () => {
  // Bad input is told, not sent.
  await applyFilters("", "lots");
  await page.locator(".mevlab-filter-error", { hasText: "'lots' is not a number" }).waitFor();
  await applyFilters("orca, METEORA", "0.001");
  await page.locator('.mevlab-live[data-dexes="orca,METEORA"][data-min-net-sol="0.001"]').waitFor();
  for (const module of ["mev", "arbitrage"]) {
    if (module === "arbitrage") await tabButton("Arbitrage").click();
    await until(module, "shown", "Number(v) > 20");
    await pause();
    const dexes = (await attr(module, "shown-dexes")).split(",");
    assert.ok(Number(await attr(module, "shown-min-net-sol")) >= 0.001, await attr(module, "shown-min-net-sol"));
    if (module === "mev")
      assert.deepEqual(
        dexes.filter((d) => d !== "Orca" && d !== "Meteora"),
        [],
        dexes.join(),
      );
    // Every row shown touches one of them at least: an arbitrage route with a hop on Orca or Meteora.
    for (const set of (await attr(module, "shown-dex-sets")).split("|")) {
      assert.ok(/\b(Orca|Meteora)\b/.test(set), `${module}: a row on ${set}`);
    }
    const event = await openRow(module, 0);
    assert.ok((event.profit as { net_sol: number }).net_sol >= 0.001);
    await tab(module).locator(".mevlab-detail-close").click();
    await resume();
  }
  await screenshotThemes(page, ".mevlab-panel", "ui-live-filtered");
  await applyFilters("", "");
  await page.locator('.mevlab-live[data-dexes=""][data-min-net-sol=""]').waitFor();
});

test("after an outage the stream resumes with since_seq and shows what it missed as a gap", async () => {
  await until("arbitrage", "shown", "Number(v) > 0");
  const before = await published("arbitrage");
  const reconnects = Number((await stream().getAttribute("data-reconnects")) ?? 0);
  await proxy.cut();
  await page.locator(".mevlab-live-state", { hasText: "reconnecting in" }).waitFor({ timeout: 15_000 });
  // Out until the control plane has published more than the 10,000 per stream it keeps to replay.
  await waitFor(
    "11,000 opportunities published during the outage",
    async () => ((await published("arbitrage")) > before + 11_000 ? true : undefined),
    60_000,
  );
  await proxy.restore();
  await page.waitForFunction(
    `Number(document.querySelector(".mevlab-live")?.dataset.reconnects ?? 0) > ${reconnects}`,
    undefined,
    { timeout: 30_000 },
  );
  await until("arbitrage", "gaps", "Number(v) >= 1");
  const gap = tab("arbitrage").locator('.mevlab-gap[data-reason="no longer in the replay buffer"]');
  await gap.waitFor();
  assert.match(
    (await gap.textContent()) ?? "",
    /[0-9]+ events not received, seq [0-9]+–[0-9]+: no longer in the replay buffer/,
  );
  assert.ok(Number(await gap.getAttribute("data-lost")) > 0);
  await screenshotThemes(page, ".mevlab-panel", "ui-live-gap");
});

/** Where the stream last resumed, per stream: `[since, first]` seqs (data-resume, `stream:since:first,…`). */
async function resumedAt(name: string): Promise<[bigint, bigint] | undefined> {
  const text = (await stream().getAttribute("data-resume")) ?? "";
  const part = text.split(",").find((p) => p.startsWith(`${name}:`));
  const [, since, first] = part?.split(":") ?? [];
  return since && first ? [BigInt(since), BigInt(first)] : undefined;
}

test("the same user logging in after the session ended keeps the view and resumes where the stream stopped", async () => {
  await tabButton("Arbitrage").click();
  await until("arbitrage", "shown", "Number(v) > 1200");
  await pause();
  await openRow("arbitrage", 1);
  const shown = await attr("arbitrage", "shown");
  const to = await attr("arbitrage", "to");
  const gaps = await num("arbitrage", "gaps");
  const reconnects = Number((await stream().getAttribute("data-reconnects")) ?? 0);
  // The admin's password changed: every token of theirs is refused at once (their sessions end).
  stack.admin.password = "a-new-admin-password";
  mevlab(["user", "passwd", stack.admin.username, "--data-dir", stack.dataDir], {
    MEVLAB_PASSWORD: stack.admin.password,
  });
  const dialog = page.locator(".jp-Dialog", { has: page.locator(".mevlab-login") });
  await dialog.waitFor({ timeout: 10_000 });
  await dialog.locator("input[name=password]").fill(stack.admin.password);
  await dialog.locator(".jp-Dialog-button.jp-mod-accept").click();
  await page.locator(".mevlab-session", { hasText: `${stack.admin.username} (admin)` }).waitFor();
  await page.waitForFunction(
    `Number(document.querySelector(".mevlab-live")?.dataset.reconnects ?? 0) > ${reconnects}`,
    undefined,
    { timeout: 30_000 },
  );
  // Nothing was reset: the same rows, still paused, the detail open.
  assert.equal(await stream().getAttribute("data-paused"), "true");
  assert.equal(await attr("arbitrage", "shown"), shown);
  assert.equal(await attr("arbitrage", "to"), to);
  assert.ok(await tab("arbitrage").locator(".mevlab-detail").isVisible(), "the detail stays open");
  // The stream carried on after the last event seen: the next seq (replayed), or a gap said so.
  await waitFor("the first event after the resume", () => resumedAt("arb_opportunity"), 30_000);
  const [since, first] = (await resumedAt("arb_opportunity"))!;
  if (first !== since + 1n) {
    await until("arbitrage", "gaps", `Number(v) > ${gaps}`);
  }
  await resume();
  await until("arbitrage", "pending", "Number(v) < 500");
  assert.ok(Number(await attr("arbitrage", "to")) > Number(to), "newer rows after the resume");
  await tab("arbitrage").locator(".mevlab-detail-close").click();
});

test("a viewer logging in after the admin's logout sees none of the admin's rows, pause or detail", async () => {
  await until("arbitrage", "shown", "Number(v) > 100");
  await pause();
  await openRow("arbitrage", 1);
  await page.locator(".mevlab-login-button", { hasText: "Log out" }).click();
  await page.locator(".mevlab-session", { hasText: "Not logged in" }).waitFor();
  const loggedOutAt = Date.now();
  await logInMevlabPanel(page, stack.viewer, "viewer");
  await page.locator('.mevlab-live[data-paused="false"]').waitFor();
  await tab("arbitrage").locator(".mevlab-detail").waitFor({ state: "hidden" });
  assert.equal(await attr("arbitrage", "gaps"), "0", "the admin's gap notices are gone");
  for (const module of ["arbitrage", "mev"] as const) {
    if (module === "mev") await tabButton("MEV").click();
    await until(module, "shown", "Number(v) > 20");
    await pause();
    const from = await num(module, "from");
    assert.ok(
      from >= loggedOutAt,
      `${module}: the oldest row shown is from ${from}, before the logout at ${loggedOutAt}`,
    );
    await resume();
  }
  await screenshotThemes(page, ".mevlab-panel", "ui-live-viewer");
});

const gate = new LiveSubscribeGate();

/**
 * Cuts the relay until the live stream says it is reconnecting, then restores it and holds the live
 * stream's next subscribe frames; returns data-reconnects before.
 */
async function outage(): Promise<number> {
  const reconnects = Number((await stream().getAttribute("data-reconnects")) ?? 0);
  gate.drop();
  await proxy.cut();
  await page.locator(".mevlab-live-state", { hasText: "reconnecting in" }).waitFor({ timeout: 15_000 });
  await proxy.restore();
  gate.hold = true;
  return reconnects;
}

async function reconnected(than: number): Promise<void> {
  await page.waitForFunction(
    `Number(document.querySelector(".mevlab-live")?.dataset.reconnects ?? 0) > ${than}`,
    undefined,
    { timeout: 30_000 },
  );
}

test("filters applied while the socket opens take effect; a handshake with no answer is given up and tried again", async () => {
  await gate.route(page);
  const reconnects = await outage();
  await waitFor("the live stream's subscribe, held", () => (gate.waiting > 0 ? true : undefined), 15_000);
  // The socket is opening under no filters: Orca only, applied now, must still take effect.
  await applyFilters("orca", "");
  await page.locator('.mevlab-live[data-dexes="orca"]').waitFor();
  gate.release();
  await reconnected(reconnects);
  await tabButton("MEV").click();
  await until("mev", "shown", "Number(v) > 20");
  await pause();
  assert.equal(await attr("mev", "shown-dexes"), "Orca");
  await resume();

  // Now the subscribe is never answered: the stream gives up after 10 s, says so, and tries again.
  const again = await outage();
  await waitFor("the live stream's subscribe, held", () => (gate.waiting > 0 ? true : undefined), 15_000);
  await page.locator(".mevlab-live-state", { hasText: "no answer from the control plane in 10 s" }).waitFor({
    timeout: 20_000,
  });
  gate.drop();
  await reconnected(again);
  await until("mev", "shown", "Number(v) > 0");
  await applyFilters("", "");
  await page.locator('.mevlab-live[data-dexes=""]').waitFor();
});

test("an access token that expired unrefreshed (4001) does not end the stream: it reopens with a fresh token", async () => {
  await until("mev", "shown", "Number(v) > 0");
  const reconnects = Number((await stream().getAttribute("data-reconnects")) ?? 0);
  // No refresh reaches the control plane: the access token expires and the sockets are closed (4001).
  await page.route("**/api/auth/refresh", (route) => route.abort());
  await page
    .locator(".mevlab-live-state", { hasText: /closed \(4001 token expired\); reconnecting in/ })
    .waitFor({ timeout: (ACCESS_TTL_S + 15) * 1000 });
  await page.unroute("**/api/auth/refresh");
  await reconnected(reconnects);
  await page.locator(".mevlab-live-state", { hasText: "live · reconnected" }).waitFor();
  const to = await num("mev", "to");
  await until("mev", "to", `Number(v) > ${to}`);
});
