// The Metrics panel in real JupyterLab and Debian's Chromium, against the embedded control plane and
// its agents: a viewer opens it from the palette and the three plotly charts (cumulative PnL, hot path
// p99, landed share) draw at once with the seconds from before the panel opened (the control plane's
// history), then keep growing; the cards show the summary; the charts follow the theme. Screenshots
// (light and dark) go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ControlPlaneClient, metricsHistory, nodeTransport } from "@mevlab/kernel-helpers";
import { launchChromium, logInMevlabPanel, openMevlabPanel, openPalette, setTheme } from "../src/lab-page";
import { ROOT, embeddedStack, waitFor, waitForAgents, type Stack } from "../src/stack";

const RESULTS = join(ROOT, "test-results");
const CHARTS = ["pnl", "hotpath", "landed"] as const;
const PANEL = ".mevlab-metrics-panel";

let stack: Stack;
let admin: ControlPlaneClient;
let browser: Browser;
let page: Page;

interface Drawn {
  /** Points of the first trace, and of those the ones with a value. */
  points: number;
  values: number;
  first: number;
  last: number;
  /** The `d` of the drawn line: plotly drew a path, not only kept data. */
  path: string;
  background: string;
}

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await embeddedStack({ lab: true, rate: 100 });
  admin = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
  await waitForAgents(admin, ["arbitrage-1", "mev-1"], 60_000);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

after(async () => {
  await browser?.close();
  await admin?.close();
  await stack?.stop();
});

/**
 * In the page (a string: this package has no DOM types): what plotly holds and drew in each chart.
 * `data` is plotly's, on the chart's element; `d` is the path of the line it drew.
 */
const DRAWN = `[${CHARTS.map((c) => JSON.stringify(c)).join(",")}].map((key) => {
  const gd = document.querySelector('.mevlab-metrics-chart[data-chart="' + key + '"]');
  const trace = gd && gd.data && gd.data[0];
  const svg = gd && gd.querySelector("svg.main-svg");
  const line = gd && gd.querySelector(".scatterlayer .trace path.js-line");
  return {
    points: trace ? trace.x.length : 0,
    values: trace ? trace.y.filter((v) => v !== null).length : 0,
    first: trace && trace.x.length ? trace.x[0].getTime() : 0,
    last: trace && trace.x.length ? trace.x[trace.x.length - 1].getTime() : 0,
    path: (line && line.getAttribute("d")) || "",
    background: svg ? getComputedStyle(svg).backgroundColor : "",
  };
})`;

const drawn = (): Promise<Drawn[]> => page.evaluate(DRAWN) as Promise<Drawn[]>;

/** Waits until every chart has drawn a line with values, each last point later than `after`'s (ms). */
async function chartsDrawn(after: readonly number[] = [0, 0, 0], minPoints = 1): Promise<Drawn[]> {
  const ok = `${DRAWN}.every((d, i) => d.path.length > 0 && d.points >= ${minPoints} && d.values > 0 && d.last > ${JSON.stringify(after)}[i])`;
  await page.waitForFunction(ok, undefined, { timeout: 30_000 });
  return drawn();
}

const luminance = (rgb: string) => {
  const [r, g, b] = (rgb.match(/\d+/g) ?? ["0", "0", "0"]).map(Number);
  return (r + g + b) / 3;
};

test("a viewer opens Metrics: three charts drawn from the history at once, then updated; light and dark", async () => {
  // Seconds measured before the panel opens: the charts must show them, not start empty.
  const history = await waitFor(
    "ten seconds with a hot path p99 measured by the control plane",
    async () => {
      const h = await metricsHistory(admin, { minutes: 5 });
      return h.hotpath_p99_ms.filter((v) => v !== null).length >= 10 ? h : undefined;
    },
    30_000,
  );
  const beforeOpen = history.ts[0];

  await openMevlabPanel(page, stack.labUrl!);
  await logInMevlabPanel(page, stack.viewer, "viewer");
  await openPalette(page, "mevlab: Metrics");
  await page.locator(`${PANEL}[data-access="viewer"]`).waitFor();

  const first = await chartsDrawn(undefined, 10);
  for (const d of first) {
    assert.ok(d.first <= beforeOpen, `the first point (${d.first}) is from before the panel opened (${beforeOpen})`);
  }
  const p99 = await page.locator('.mevlab-metrics-chart[data-chart="hotpath"]').getAttribute("data-points");
  assert.ok(Number(p99) >= 10, `hot path points ${p99}`);
  await page
    .locator('.mevlab-metrics-panel .mevlab-metric[data-metric="hotpath"] .mevlab-metric-value', { hasText: "ms" })
    .waitFor();

  // New seconds arrive, at most one draw a second.
  const updated = await chartsDrawn(first.map((d) => d.last));
  assert.ok(updated[0].points > first[0].points || updated[0].first > first[0].first);

  await page.screenshot({ path: join(RESULTS, "ui-metrics-light.png") });
  for (const d of updated) assert.ok(luminance(d.background) > 128, `light chart background ${d.background}`);
  await setTheme(page, "JupyterLab Dark", PANEL);
  for (const c of CHARTS) {
    await page.locator(`.mevlab-metrics-chart[data-chart="${c}"][data-theme="JupyterLab Dark"]`).waitFor();
  }
  const dark = await drawn();
  for (const d of dark) assert.ok(luminance(d.background) < 128, `dark chart background ${d.background}`);
  await page.screenshot({ path: join(RESULTS, "ui-metrics-dark.png") });
  await setTheme(page, "JupyterLab Light", PANEL);
});

test("hidden, the panel neither polls nor draws; shown again, one read catches up", async () => {
  const before = await drawn();
  const reads: string[] = [];
  const onRequest = (r: { url(): string }) => {
    if (r.url().includes("/api/metrics/history")) reads.push(r.url());
  };
  // The request in flight when it hides, if any, may still go out: count from the first new second on.
  await page.locator(".lm-TabBar-tab", { hasText: /^mevlab$/ }).click();
  await page.locator(PANEL).waitFor({ state: "hidden" });
  page.on("request", onRequest);
  const later = await waitFor("three new seconds measured", async () => {
    const h = await metricsHistory(admin, { since: before[0].last });
    return h.ts.length >= 3 ? h : undefined;
  });
  assert.equal(reads.length, 0, `no history read while hidden: ${reads.join(", ")}`);
  await page.locator(".lm-TabBar-tab", { hasText: "mevlab metrics" }).click();
  const shown = await chartsDrawn(before.map(() => later.ts.at(-1)! - 1));
  page.off("request", onRequest);
  const since = Number(new URL(reads[0] ?? "http://x/").searchParams.get("since"));
  assert.ok(since >= before[0].last, `the first read asks only for what is new: ${reads.join(", ")}`);
  assert.ok(shown[0].points >= before[0].points + 3);
});

test("the charts follow the panel's size", async () => {
  const width = `(() => {
    const gd = document.querySelector('.mevlab-metrics-chart[data-chart="pnl"]');
    const svg = gd.querySelector("svg.main-svg");
    return [gd.clientWidth, Number(svg.getAttribute("width"))];
  })()`;
  const [box, svg] = (await page.evaluate(width)) as [number, number];
  assert.ok(Math.abs(box - svg) <= 2, `drawn ${svg} px wide in a ${box} px box`);
  await page.setViewportSize({ width: 1000, height: 1000 });
  // One column instead of two: each chart gets another width, and plotly redraws to it.
  await page
    .waitForFunction(`(() => { const [b, s] = ${width}; return b !== ${box} && Math.abs(b - s) <= 2; })()`, undefined, {
      timeout: 15_000,
    })
    .catch(async (err: Error) => assert.fail(`${err.message}: now ${JSON.stringify(await page.evaluate(width))}`));
});
