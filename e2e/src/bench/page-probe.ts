// What bench:ui installs in the lab page: frame times (requestAnimationFrame), long tasks
// (PerformanceObserver) and every grid paint of the mevlab panel (its data-newest-ts attribute).
// Plain JavaScript run by page.evaluate: the e2e package compiles without the DOM's types.
import type { CDPSession, Page } from "playwright-core";

export interface PageSamples {
  /** Frame start times, ms since the page's time origin. */
  frames: number[];
  longTasks: { start: number; duration: number }[];
  /** Per grid paint: when (epoch ms), the newest row's emit time, the oldest new row's emit time. */
  paints: { at: number; newestTs: number; oldestNewTs: number }[];
  /** Arrival times (epoch ms) of the realtime WebSocket's binary frames. */
  arrivals: number[];
  /** The page's clock at the moment of collection: epoch ms = timeOrigin + performance.now(). */
  timeOrigin: number;
}

const INSTALL = `(() => {
  const s = { frames: [], longTasks: [], paints: [], sockets: [], timeOrigin: performance.timeOrigin };
  window.__mevlabBench = s;
  // Realtime sockets opened from now on (the panel's login) stamp each binary frame as it arrives,
  // each socket apart: the live stream's own socket carries the opportunities, the shared one the rest.
  const onmessage = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
  Object.defineProperty(WebSocket.prototype, "onmessage", {
    configurable: true,
    get() { return onmessage.get.call(this); },
    set(fn) {
      const stamped = this.url.includes("/api/realtime/ws") && typeof fn === "function";
      const arrivals = [];
      if (stamped) s.sockets.push(arrivals);
      onmessage.set.call(this, stamped ? function (ev) {
        if (typeof ev.data !== "string") arrivals.push(performance.timeOrigin + performance.now());
        return fn.call(this, ev);
      } : fn);
    },
  });
  const frame = (t) => { s.frames.push(t); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) s.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask" });
  const panel = document.querySelector(".mevlab-panel");
  new MutationObserver(() => {
    const at = performance.timeOrigin + performance.now();
    const newestTs = Number(panel.dataset.newestTs);
    const oldestNewTs = Number(panel.dataset.oldestNewTs ?? newestTs);
    s.paints.push({ at, newestTs, oldestNewTs });
  }).observe(panel, { attributes: true, attributeFilter: ["data-newest-ts"] });
})()`;

/** Starts recording; the mevlab panel must be open. */
export async function installProbe(page: Page): Promise<void> {
  await page.evaluate(INSTALL);
}

/**
 * Everything recorded since `installProbe` or the last `resetProbe`; the arrivals are those of the
 * socket that received the most frames (the live stream's: thousands of opportunities a second).
 */
export async function collectProbe(page: Page): Promise<PageSamples> {
  return (await page.evaluate(`(() => {
    const { sockets, ...s } = window.__mevlabBench;
    return { ...s, arrivals: sockets.reduce((a, b) => (b.length > a.length ? b : a), []) };
  })()`)) as PageSamples;
}

/** Forgets what was recorded so far (warm-up, login); returns the page clock (ms since time origin). */
export async function resetProbe(page: Page): Promise<number> {
  return (await page.evaluate(`(() => {
    const s = window.__mevlabBench;
    s.frames = []; s.longTasks = []; s.paints = [];
    for (const a of s.sockets) a.length = 0;
    return performance.now();
  })()`)) as number;
}

/** Used JS heap (MB) after a full garbage collection: what the page retains. */
export async function retainedHeapMb(cdp: CDPSession): Promise<number> {
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  return usedSize / 2 ** 20;
}

/** Main-thread busy time (s) so far, from Chromium's own counters. */
export async function mainThreadBusyS(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return metrics.find((m) => m.name === "TaskDuration")?.value ?? NaN;
}
