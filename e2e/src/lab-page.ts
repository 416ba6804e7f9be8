// Driving the extension in real JupyterLab with Debian's Chromium: shared by the UI test and bench:ui.
import { chromium, type Browser, type Page } from "playwright-core";

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
