// Open in notebook in real JupyterLab and Debian's Chromium, against the embedded control plane and
// agents: the arbitrage tab filtered by DEX and min net SOL and paused; "Open in notebook" creates a
// tslab notebook with the helper-library cell, which runs (Shift+Enter) and returns the rows the tab
// shows (as many, and the same oldest and newest). With that notebook current, the MEV tab's cell goes
// into it, not into a new one; with a Python notebook current, into a new tslab one. Screenshots of the
// notebook (light and dark) go to test-results/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { DataSource } from "@mevlab/kernel-helpers";
import { launchChromium, logInMevlabPanel, openMevlabPanel, openPalette, screenshotThemes } from "../src/lab-page";
import { ROOT, embeddedStack, waitFor, type Stack } from "../src/stack";

const RESULTS = join(ROOT, "test-results");
/** One opportunity per agent tick (100 ms): no two of a module share a millisecond, so a range's edges are exact. */
const RATE = 10;
const DEXES = "orca, METEORA";
const MIN_NET_SOL = 0;
/** Rows a tab shows before it is paused. */
const ROWS = 12;

let stack: Stack;
let browser: Browser;
let page: Page;
let store: DataSource;
/**
 * The lab serves the repository; the file browser is taken into this folder before any notebook is
 * made, so they land here, not at the root, and go with it after.
 */
const NOTEBOOKS = join(RESULTS, `notebooks-${process.pid}`);

before(async () => {
  mkdirSync(NOTEBOOKS, { recursive: true });
  stack = await embeddedStack({ lab: true, rate: RATE });
  store = new DataSource({ dataDir: stack.dataDir, clickhouseUrl: "" });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
});

after(async () => {
  await browser?.close();
  await store?.close();
  await stack?.stop();
  rmSync(NOTEBOOKS, { recursive: true, force: true });
});

/** The notebooks in the test's folder. */
const notebooksMade = () => readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb"));

/** Takes JupyterLab's file browser into `dir` (under the lab's root), where new notebooks are created. */
async function browseInto(dir: string): Promise<void> {
  const browser = page.locator("#filebrowser");
  const tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]');
  const wasOpen = await browser.isVisible();
  if (!wasOpen) await tab.click();
  const names = relative(ROOT, dir).split(sep);
  for (const name of names) {
    const text = page.locator(".jp-DirListing-itemText", { hasText: new RegExp(`^${name}$`) });
    await browser.locator(".jp-DirListing-item", { has: text }).dblclick();
  }
  await browser.locator(".jp-BreadCrumbs", { hasText: names.at(-1) }).waitFor();
  if (!wasOpen) await tab.click();
}

interface Shown {
  module: "arbitrage" | "mev";
  shown: number;
  from: number;
  to: number;
}

function tab(module: string): Locator {
  return page.locator(`.mevlab-live-tab[data-module="${module}"]`);
}

/** Waits until the tab's data-shown is at least `n` (or, with `<`, under it). */
async function waitForRows(module: string, n: number, op: ">=" | "<" = ">="): Promise<void> {
  const tab = `document.querySelector('.mevlab-live-tab[data-module="${module}"]')`;
  await page.waitForFunction(`Number(${tab}?.getAttribute("data-shown")) ${op} ${n}`, undefined, { timeout: 30_000 });
}

async function shownBy(module: "arbitrage" | "mev"): Promise<Shown> {
  const t = tab(module);
  const [shown, from, to] = await Promise.all(["data-shown", "data-from", "data-to"].map((a) => t.getAttribute(a)));
  return { module, shown: Number(shown), from: Number(from), to: Number(to) };
}

/** The grid's row and column-header heights (extension/src/live.ts). */
const ROW_PX = 22;
const HEADER_PX = 24;

/** The ids of the tab's oldest and newest shown rows, from the detail of each (the grid is a canvas). */
async function edgeIds(module: string, shown: number): Promise<{ oldest: string; newest: string }> {
  const grid = tab(module).locator(".lm-DataGrid");
  const box = await grid.boundingBox();
  assert.ok(box, "the grid is on screen");
  const idOf = async (row: number): Promise<string> => {
    const y = HEADER_PX + row * ROW_PX + ROW_PX / 2;
    assert.ok(y + ROW_PX < box.height, `row ${row + 1} of ${shown} is on screen (grid ${box.height} px high)`);
    await page.mouse.click(box.x + box.width / 3, box.y + y);
    const detail = tab(module).locator(".mevlab-detail");
    const head = detail.locator(".mevlab-detail-head", { hasText: `row ${row + 1} ·` });
    await head.waitFor();
    const id = (await detail.getAttribute("data-id")) ?? "";
    await detail.locator(".mevlab-detail-close").click();
    await head.waitFor({ state: "detached" });
    return id;
  };
  // Row 1 is the newest.
  return { newest: await idOf(0), oldest: await idOf(shown - 1) };
}

/** Waits until the event store holds every row the tab shows (the sink writes a few seconds behind). */
async function waitForStore(s: Shown): Promise<void> {
  const spec = {
    stream: s.module === "arbitrage" ? "arb" : "mev",
    from: s.from,
    to: s.to,
    dex: DEXES.split(",").map((d) => d.trim()),
    where: { net_sol: { gte: MIN_NET_SOL } },
  };
  await waitFor(
    `${s.shown} ${s.module} rows in the store`,
    async () => (await store.slice(spec)).numRows >= s.shown,
    30_000,
  );
}

/** The notebook's cell that holds `marker`, run with Shift+Enter; resolves to its output's text. */
async function runCell(notebook: Locator, marker: string): Promise<string> {
  const cell = notebook.locator(".jp-CodeCell", { hasText: marker });
  await cell.locator(".jp-InputPrompt").click();
  await page.keyboard.press("Shift+Enter");
  // Run, the prompt shows the execution count: the first run also starts tslab and type-checks the helpers.
  try {
    await cell.locator(".jp-InputPrompt", { hasText: /\[\d+\]/ }).waitFor({ timeout: 180_000 });
  } catch (err) {
    await page.screenshot({ path: join(RESULTS, "ui-notebook-not-run.png") });
    throw err;
  }
  return (await cell.locator(".jp-OutputArea").textContent()) ?? "";
}

function check(out: string, s: Shown, ids: { oldest: string; newest: string }): void {
  const m = new RegExp(`^${s.module}: (\\d+) rows, oldest (\\S+), newest (\\S+)`).exec(out.trim());
  assert.ok(m, `the cell's output: ${out}`);
  assert.equal(Number(m[1]), s.shown, `the cell returns the rows the ${s.module} tab shows`);
  assert.deepEqual({ oldest: m[2], newest: m[3] }, ids, "the oldest and newest rows are the tab's");
}

test("Open in notebook: a new tslab notebook with a cell that returns the rows the arbitrage tab shows", async () => {
  await openMevlabPanel(page, stack.labUrl!);
  await browseInto(NOTEBOOKS);
  await logInMevlabPanel(page, stack.admin);
  await waitForRows("arbitrage", 1);
  await page.locator(".mevlab-filter-dex").fill(DEXES);
  await page.locator(".mevlab-filter-min-net-sol").fill(String(MIN_NET_SOL));
  await page.locator(".mevlab-filter-apply").click();
  await page.locator('.mevlab-live[data-dexes="orca,METEORA"][data-min-net-sol="0"]').waitFor();
  await waitForRows("arbitrage", ROWS);
  await page.locator(".mevlab-live-pause").click();
  await page.locator('.mevlab-live-pause[data-paused="true"]').waitFor();
  assert.equal(await page.locator(".jp-NotebookPanel").count(), 0, "no notebook open before");

  await page.locator(".mevlab-open-in-notebook").click();
  const arb = await shownBy("arbitrage");
  assert.ok(arb.shown >= ROWS && arb.from < arb.to, JSON.stringify(arb));
  const notebook = page.locator(".jp-NotebookPanel");
  const cell = notebook.locator(".jp-CodeCell", { hasText: "shownArb" });
  await cell.waitFor({ timeout: 60_000 });
  assert.equal(await notebook.count(), 1);
  assert.equal(await notebook.locator(".jp-CodeCell").count(), 1, "the new notebook's one cell holds the slice");
  assert.equal(notebooksMade().length, 1, "created in the file browser's folder");
  const source = (await cell.locator(".jp-InputArea-editor").textContent()) ?? "";
  assert.match(source, /stream: "arb"/);
  assert.match(source, new RegExp(`from: ${arb.from},.*to: ${arb.to},`, "s"));
  assert.match(source, /dex: \["orca", "meteora"\]/);
  assert.match(source, /where: \{ net_sol: \{ gte: 0 \} \}/);

  await page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", { hasText: "mevlab" }).click();
  const arbIds = await edgeIds("arbitrage", arb.shown);
  await page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", { hasText: /Untitled\d*\.ipynb/ }).click();
  await waitForStore(arb);
  check(await runCell(notebook, "shownArb"), arb, arbIds);
  await screenshotThemes(page, ".jp-NotebookPanel-notebook", "ui-notebook");
});

test("with a tslab notebook current, the MEV tab's cell goes into it", async () => {
  await page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", { hasText: "mevlab" }).click();
  await page.locator(".mevlab-live-tabs .lm-TabBar-tab", { hasText: "MEV" }).click();
  await page.locator('.mevlab-live[data-module="mev"]').waitFor();
  // Resumed and the filters applied again, the tab starts empty and shows what they let through.
  await page.locator(".mevlab-live-pause").click();
  await page.locator('.mevlab-live-pause[data-paused="false"]').waitFor();
  await page.locator(".mevlab-filter-apply").click();
  await waitForRows("mev", ROWS, "<");
  await waitForRows("mev", ROWS);
  await page.locator(".mevlab-live-pause").click();
  await page.locator('.mevlab-live-pause[data-paused="true"]').waitFor();
  const paused = await shownBy("mev");
  const mevIds = await edgeIds("mev", paused.shown);
  await page.locator(".mevlab-open-in-notebook").click();
  const mev = await shownBy("mev");
  assert.equal(mev.shown, paused.shown, "paused, the tab shows the same rows");
  const notebook = page.locator(".jp-NotebookPanel");
  await notebook.locator(".jp-CodeCell", { hasText: "shownMev" }).waitFor({ timeout: 30_000 });
  assert.equal(await notebook.count(), 1, "no second notebook");
  const cells = await notebook.locator(".jp-CodeCell .jp-InputArea-editor").allTextContents();
  const arbAt = cells.findIndex((c) => c.includes("shownArb"));
  const mevAt = cells.findIndex((c) => c.includes("shownMev"));
  assert.ok(arbAt >= 0 && mevAt > arbAt, `the MEV cell below the arbitrage one: ${arbAt}, ${mevAt}`);
  await waitForStore(mev);
  check(await runCell(notebook, "shownMev"), mev, mevIds);
});

test("with a Python notebook current, the cell goes into a new tslab notebook, not into it", async () => {
  const notebooks = page.locator(".jp-NotebookPanel");
  const before = await notebooks.count();
  await openPalette(page, "New Launcher");
  await page.locator('.jp-LauncherCard[data-category="Notebook"][title^="Python 3"]').click();
  await page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", { hasText: /Untitled\d*\.ipynb/ }).waitFor();
  const python = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)");
  await python.locator(".jp-Toolbar-kernelName", { hasText: "Python" }).waitFor({ timeout: 60_000 });
  assert.equal(await notebooks.count(), before + 1);
  const pythonId = await python.getAttribute("id");

  await page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", { hasText: "mevlab" }).click();
  await page.locator(".mevlab-open-in-notebook").click();
  const created = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)");
  await created.locator(".jp-CodeCell", { hasText: "shownMev" }).waitFor({ timeout: 60_000 });
  assert.equal(await notebooks.count(), before + 2, "a new notebook");
  assert.notEqual(await created.getAttribute("id"), pythonId);
  await created.locator(".jp-Toolbar-kernelName", { hasText: "TypeScript" }).waitFor({ timeout: 60_000 });
  assert.equal(notebooksMade().length, 3, `all three in the file browser's folder: ${notebooksMade().join(", ")}`);
  assert.equal(
    await page.locator(`#${pythonId} .jp-CodeCell`, { hasText: /shown(Arb|Mev)/ }).count(),
    0,
    "nothing in the Python notebook",
  );
});
