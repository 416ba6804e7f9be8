// The live panel under load: `mevlab up` with JupyterLab, both agents at --rate events/s each, the
// mevlab panel open and logged in in headless Chromium (the UI test's flags). After a warm-up, for
// --seconds: frames per second (requestAnimationFrame, per 1 s window), long tasks, retained JS heap
// before login and at the end, emit → visible (at each grid paint, the oldest row drawn for the first
// time), main-thread busy share, and the opportunities the control plane dropped for the page.
// `npm run bench:ui -- --json [--seconds 30] [--rate 2500] [--max-rows N] [--extension DIR] [--profile FILE]`
// --extension: a built labextension folder (e.g. a copy of mevlab/labextension) loaded instead of the
// installed one; --profile: a CDP CPU profile of the measured window, written to FILE and summarised.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { CDPSession, Page } from "playwright-core";
import { launchChromium, logInMevlabPanel, openMevlabPanel } from "../lab-page";
import { embeddedStack, login, percentile, writeLabSettings, type Stack } from "../stack";
import { byScript, topFunctions, type CpuProfile } from "./cpu-profile";
import {
  collectProbe,
  installProbe,
  mainThreadBusyS,
  resetProbe,
  retainedHeapMb,
  type PageSamples,
} from "./page-probe";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const json = args.includes("--json");
const seconds = Number(opt("seconds", "30"));
const rate = Number(opt("rate", "2500"));
const warmupS = Number(opt("warmup-s", "3"));
const maxRows = opt("max-rows", "");
const extension = opt("extension", "");
const profileFile = opt("profile", "");
const log = (line: string): void => void (json ? process.stderr : process.stdout).write(line + "\n");
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Makes the lab load `dir` as @mevlab/extension: the first labextensions folder on JUPYTER_PATH wins. */
function stageExtension(dir: string): void {
  const root = mkdtempSync(join(tmpdir(), "mevlab-bench-ext-"));
  const target = join(root, "labextensions", "@mevlab", "extension");
  mkdirSync(target, { recursive: true });
  cpSync(resolve(dir), target, { recursive: true });
  process.env.JUPYTER_PATH = [root, process.env.JUPYTER_PATH].filter(Boolean).join(":");
}

/** Opportunities published to realtime clients and dropped for slow ones, from /metrics. */
async function wsCounters(stack: Stack, token: string): Promise<{ published: number; dropped: number }> {
  const text = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) =>
    r.text(),
  );
  const sum = (metric: string): number =>
    [...text.matchAll(new RegExp(`^${metric}\\{stream="(?:arb|mev)_opportunity"\\} (\\d+)`, "gm"))].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
  return { published: sum("mevlab_ws_events_published_total"), dropped: sum("mevlab_ws_events_dropped_total") };
}

/**
 * Emit → visible split at each paint, at the first realtime frame that reached the page's event loop
 * since the paint before: emit → that frame's handler (agents, control plane, socket, and the page's
 * own queue) and from there → painted (the panel's share).
 */
function splitAtArrival(arrivals: readonly number[], paints: PageSamples["paints"]) {
  const upstream: number[] = [];
  const panel: number[] = [];
  let a = 0;
  for (const p of paints) {
    if (a < arrivals.length && arrivals[a] <= p.at) {
      upstream.push(arrivals[a] - p.oldestNewTs);
      panel.push(p.at - arrivals[a]);
    }
    while (a < arrivals.length && arrivals[a] <= p.at) a++;
  }
  return { upstream: upstream.sort((x, y) => x - y), panel: panel.sort((x, y) => x - y) };
}

/** The measured numbers from the page's samples over [t0, t0 + seconds). */
function summarise(s: PageSamples, t0: number) {
  const windows = Array.from({ length: seconds }, (_, i) => t0 + i * 1000);
  const fps = windows.map((w) => s.frames.filter((t) => t >= w && t < w + 1000).length).sort((a, b) => a - b);
  const end = t0 + seconds * 1000;
  const tasks = s.longTasks.filter((t) => t.start >= t0 && t.start < end).map((t) => t.duration);
  tasks.sort((a, b) => a - b);
  const startEpoch = s.timeOrigin + t0;
  const paints = s.paints.filter((p) => p.at >= startEpoch && p.at < startEpoch + seconds * 1000 && p.newestTs > 0);
  const oldest = paints.map((p) => p.at - p.oldestNewTs).sort((a, b) => a - b);
  const newest = paints.map((p) => p.at - p.newestTs).sort((a, b) => a - b);
  const split = splitAtArrival(s.arrivals, paints);
  return {
    fps: { median: percentile(fps, 50), min: fps[0] ?? 0 },
    long_task_ms: {
      p99: tasks.length ? round(percentile(tasks, 99)) : 0,
      max: tasks.length ? round(tasks[tasks.length - 1]) : 0,
      count: tasks.length,
      total: round(tasks.reduce((a, b) => a + b, 0)),
    },
    emit_to_visible_ms: { p50: round(percentile(oldest, 50)), p99: round(percentile(oldest, 99)) },
    newest_row_age_ms: { p50: round(percentile(newest, 50)), p99: round(percentile(newest, 99)) },
    emit_to_arrival_ms: { p50: round(percentile(split.upstream, 50)), p99: round(percentile(split.upstream, 99)) },
    arrival_to_visible_ms: { p50: round(percentile(split.panel, 50)), p99: round(percentile(split.panel, 99)) },
    grid_paints_per_s: round(paints.length / seconds),
  };
}

/** Runs `during` with the CPU profiler on when --profile asks for it; writes and summarises the profile. */
async function profiled<T>(cdp: CDPSession, during: () => Promise<T>): Promise<T> {
  if (!profileFile) return during();
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.start");
  const result = await during();
  const { profile } = (await cdp.send("Profiler.stop")) as unknown as { profile: CpuProfile };
  writeFileSync(profileFile, JSON.stringify(profile));
  log(`CPU profile written to ${profileFile}; self time by script, then by function:`);
  for (const e of [...byScript(profile), ...topFunctions(profile)])
    log(`  ${e.pct.toFixed(1).padStart(5)} %  ${e.name}`);
  return result;
}

/** Server-side counters and the main thread's busy time, read at the start and at the end of the window. */
async function counters(stack: Stack, token: string, cdp: CDPSession) {
  const ws = await wsCounters(stack, token);
  return { ...ws, busyS: await mainThreadBusyS(cdp), at: performance.now() };
}

async function measure(page: Page, stack: Stack) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  await installProbe(page);
  const heapStart = await retainedHeapMb(cdp);
  await logInMevlabPanel(page, stack.admin);
  await sleep(warmupS * 1000);
  const token = await login(stack.url, stack.admin.username, stack.admin.password);
  const c0 = await counters(stack, token, cdp);
  const t0 = await resetProbe(page);
  const c1 = await profiled(cdp, async () => {
    await sleep(seconds * 1000);
    return counters(stack, token, cdp);
  });
  const samples = await collectProbe(page);
  const caption = (await page.locator(".mevlab-caption").textContent()) ?? "";
  const heapEnd = await retainedHeapMb(cdp);
  const wallS = (c1.at - c0.at) / 1000;
  return {
    ...summarise(samples, t0),
    heap_mb: { start: round(heapStart), end: round(heapEnd) },
    main_thread_busy_pct: round((100 * (c1.busyS - c0.busyS)) / wallS),
    opportunities: {
      published_per_s: round((c1.published - c0.published) / wallS),
      dropped_for_page_per_s: round((c1.dropped - c0.dropped) / wallS),
    },
    caption: caption.trim(),
  };
}

/**
 * The panel behind a new Launcher tab for 3 s, then its tab clicked again: grid paints while hidden
 * (none expected: it buffers), and click → first paint after it shows.
 */
async function hiddenPhase(page: Page): Promise<{ paints_while_hidden: number; show_to_paint_ms: number }> {
  await page.locator(".lm-DockPanel-tabBar .lm-TabBar-addButton").first().click();
  await page.locator(".mevlab-panel").waitFor({ state: "hidden" });
  await resetProbe(page);
  await sleep(3_000);
  const hidden = (await collectProbe(page)).paints.length;
  const shown = await resetProbe(page);
  await page.locator('.lm-TabBar-tab[data-id="mevlab-main"]').click();
  await page.waitForFunction("window.__mevlabBench.paints.length > 0", undefined, { timeout: 10_000 });
  const s = await collectProbe(page);
  return { paints_while_hidden: hidden, show_to_paint_ms: round(s.paints[0].at - s.timeOrigin - shown) };
}

async function main(): Promise<void> {
  if (extension) stageExtension(extension);
  const stack = await embeddedStack({ lab: true, rate });
  const browser = await launchChromium();
  try {
    if (maxRows) writeLabSettings(stack, { controlPlaneUrl: stack.url, maxRows: Number(maxRows) });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await openMevlabPanel(page, stack.labUrl!);
    const out = { rate_per_agent: rate, seconds, ...(await measure(page, stack)), hidden: await hiddenPhase(page) };
    if (json) process.stdout.write(JSON.stringify(out) + "\n");
    else printTable(out);
  } finally {
    await browser.close();
    await stack.stop();
  }
}

type Result = Awaited<ReturnType<typeof measure>> & {
  rate_per_agent: number;
  seconds: number;
  hidden: Awaited<ReturnType<typeof hiddenPhase>>;
};

function printTable(o: Result): void {
  const rows: [string, string][] = [
    ["load", `${2 * o.rate_per_agent} events/s asked, ${o.opportunities.published_per_s}/s published, ${o.seconds} s`],
    ["frames per second", `median ${o.fps.median}, min ${o.fps.min}`],
    ["long tasks", `p99 ${o.long_task_ms.p99} ms, max ${o.long_task_ms.max} ms, ${o.long_task_ms.count} tasks`],
    ["JS heap (after GC)", `${o.heap_mb.start} MB before login → ${o.heap_mb.end} MB at the end`],
    ["emit → visible", `p50 ${o.emit_to_visible_ms.p50} ms, p99 ${o.emit_to_visible_ms.p99} ms`],
    ["  emit → page handler", `p50 ${o.emit_to_arrival_ms.p50} ms, p99 ${o.emit_to_arrival_ms.p99} ms`],
    ["  handler → visible", `p50 ${o.arrival_to_visible_ms.p50} ms, p99 ${o.arrival_to_visible_ms.p99} ms`],
    ["grid paints", `${o.grid_paints_per_s} per s`],
    ["main thread busy", `${o.main_thread_busy_pct} %`],
    ["dropped for the page", `${o.opportunities.dropped_for_page_per_s} per s`],
    ["caption", o.caption],
    [
      "hidden panel",
      `${o.hidden.paints_while_hidden} paints in 3 s; shown → painted in ${o.hidden.show_to_paint_ms} ms`,
    ],
  ];
  for (const [k, v] of rows) log(`${k.padEnd(22)} ${v}`);
}

main().catch((err) => {
  process.stderr.write(`bench:ui failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
