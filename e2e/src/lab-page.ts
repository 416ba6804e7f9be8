// Driving the extension in real JupyterLab with Debian's Chromium: shared by the UI test and bench:ui.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { ROOT } from "./stack";

export const CHROMIUM = process.env.MEVLAB_CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium as the UI test runs it: no sandbox (root in CI), no GPU, nothing fetched from outside. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-dev-shm-usage",
    ],
  });
}

/** Loads the lab and opens the mevlab panel from the launcher. */
export async function openMevlabPanel(page: Page, labUrl: string): Promise<void> {
  await page.goto(labUrl, { waitUntil: "domcontentloaded" });
  const card = page.locator(
    '.jp-LauncherCard[title^="Start, stop and kill"], .jp-LauncherCard:has-text("mevlab: Control & Live")',
  );
  await card.first().waitFor({ timeout: 60_000 });
  await card.first().click();
  await page.locator(".mevlab-panel").waitFor();
}

/** Logs a user in through the panel's dialog and waits until the panel shows the session. */
export async function logInMevlabPanel(
  page: Page,
  user: { username: string; password: string },
  role = "admin",
): Promise<void> {
  await page.locator(".mevlab-login-button").click();
  await page.locator(".mevlab-login input[name=username]").fill(user.username);
  await page.locator(".mevlab-login input[name=password]").fill(user.password);
  await page.locator(".jp-Dialog-button.jp-mod-accept").click();
  await page.locator(".mevlab-session", { hasText: `${user.username} (${role})` }).waitFor();
}

/**
 * Logs out in the mevlab panel, logs `user` in there, then brings forward the tab labelled `tab`
 * (the panel under test).
 */
export async function switchUser(
  page: Page,
  user: { username: string; password: string },
  role: string,
  tab: string,
): Promise<void> {
  await page
    .locator(".lm-TabBar-tab", { hasText: /^mevlab$/ })
    .first()
    .click();
  await page.locator(".mevlab-login-button", { hasText: "Log out" }).click();
  await logInMevlabPanel(page, user, role);
  await page.locator(".lm-TabBar-tab", { hasText: tab }).first().click();
}

/** Runs a command through JupyterLab's palette (Ctrl+Shift+C), by its label. */
export async function openPalette(page: Page, text: string): Promise<void> {
  await page.keyboard.press("Control+Shift+C");
  const search = page.locator(".lm-CommandPalette-input");
  await search.waitFor();
  await search.fill(text);
  await page.locator(".lm-CommandPalette-item", { hasText: text }).first().click();
}

/** Switches JupyterLab's theme and waits until `panel` (a selector) is drawn in it: dark on dark, light on light. */
export async function setTheme(page: Page, name: "JupyterLab Light" | "JupyterLab Dark", panel: string): Promise<void> {
  await openPalette(page, `Use Theme: ${name}`);
  // The body counts as hidden to Playwright (the shell is positioned absolutely): wait for the attribute.
  await page.locator(`body[data-jp-theme-name="${name}"]`).waitFor({ state: "attached", timeout: 15_000 });
  const dark = name.endsWith("Dark");
  await page.waitForFunction(
    `(() => {
      const [r, g, b] = getComputedStyle(document.querySelector(${JSON.stringify(panel)})).backgroundColor.match(/\\d+/g).map(Number);
      return (r + g + b) / 3 ${dark ? "<" : ">"} 128;
    })()`,
    undefined,
    { timeout: 15_000 },
  );
  // The lab shows its splash over everything while a theme loads.
  await page.locator("#jupyterlab-splash").waitFor({ state: "detached", timeout: 15_000 });
}

/**
 * Screenshots of the page in the light theme (the lab's default) and the dark one, then light again:
 * test-results/<name>-light.png and <name>-dark.png. `panel` (a selector) is what must be drawn in
 * each theme before its picture; `height` makes the viewport that tall for the pictures (a long panel
 * in one picture), then puts it back.
 */
export async function screenshotThemes(page: Page, panel: string, name: string, height?: number): Promise<void> {
  const results = join(ROOT, "test-results");
  mkdirSync(results, { recursive: true });
  const viewport = page.viewportSize();
  const shoot = async (theme: string) => {
    if (height && viewport) await page.setViewportSize({ width: viewport.width, height });
    await page.screenshot({ path: join(results, `${name}-${theme}.png`) });
    if (height && viewport) await page.setViewportSize(viewport);
  };
  await shoot("light");
  await setTheme(page, "JupyterLab Dark", panel);
  await shoot("dark");
  await setTheme(page, "JupyterLab Light", panel);
}
