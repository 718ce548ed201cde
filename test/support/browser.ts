/**
 * Headless Chromium for the web UI tests: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser download), with the flags this machine's closed network needs.
 * Every page opened through openPage() is watched: script errors, alert/confirm dialogs
 * nobody expected (an injected script would raise one) and every request it made.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Request } from "playwright-core";

/**
 * Debian's Chromium, or the first `chromium` on PATH: CI installs the package only when no
 * `chromium` command exists, so one found elsewhere on PATH is the one the machine has.
 */
export const CHROMIUM_PATH =
  ["/usr/bin/chromium", ...(process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== "").map((d) => path.join(d, "chromium"))].find(
    (p) => existsSync(p),
  ) ?? "/usr/bin/chromium";
/** Without the background-networking flags Chromium keeps trying to reach Google's hosts. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Where the tests write screenshots (git-ignored). */
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../test-results/web/", import.meta.url));

/** A fresh headless browser; Playwright gives it a new, empty profile (user data dir). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Uncaught script errors and console errors. */
  errors: string[];
  /** Messages of alert/confirm/prompt dialogs, which the UI never opens. */
  dialogs: string[];
  /** Every request the page made. */
  requests: Request[];
}

/** Opens a page in a new context (its own storage), watching it. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...options });
  const page = await context.newPage();
  return watch(page, context);
}

/** Starts watching a page (e.g. a second tab of the same context). */
export function watch(page: Page, context: BrowserContext = page.context()): WatchedPage {
  const watched: WatchedPage = { page, context, errors: [], dialogs: [], requests: [] };
  page.on("pageerror", (e) => watched.errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // A refused call is logged by Chromium as a failed resource load; that is the server's answer, not a UI bug.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) watched.errors.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    watched.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on("request", (r) => watched.requests.push(r));
  return watched;
}

/** Writes a full-page screenshot to test-results/web/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The Connect procedure a request called ("JobService/SubmitJob"), or undefined. */
export function procedureOf(request: Request): string | undefined {
  return /\/flux\.restful\.v1\.(\w+\/\w+)$/.exec(new URL(request.url()).pathname)?.[1];
}
