/**
 * The home page's facts, and every page readable at 1280x800 and at phone width, in light
 * and dark (prefers-color-scheme), with a screenshot of each.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { screenshot } from "../../support/browser.js";
import { poll, startUiEnv, type UiEnv } from "../../support/web-ui.js";

let env: UiEnv;
let jobId: string;
beforeAll(async () => {
  env = await startUiEnv();
  jobId = await env.client.submit({ command: ["sh", "-c", "echo a fairly long line of output to see how the page wraps it on a small screen; echo oops >&2"], name: "layout-job" });
  for await (const _ of env.client.watchEvents(jobId));
});
afterEach(async () => {
  await env.checkPages();
});
afterAll(async () => {
  await env?.close();
});

/** Each page, and what shows once it has loaded its data. */
const PAGES: [string, () => string, string][] = [
  ["home", () => "/", "[data-testid=nodes-summary]"],
  ["jobs", () => "/jobs", "tbody tr[data-job-id]"],
  ["submit", () => "/jobs/submit", "form"],
  ["job", () => `/job/${encodeURIComponent(jobId)}`, "[data-testid=output-state][data-complete]"],
  ["users", () => "/users", "[data-testid=users-table]"],
];

/** Relative luminance (0 black to 1 white) of a CSS rgb() colour. */
function luminance(color: string): number {
  const [r, g, b] = (color.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => Number(v) / 255);
  const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
}

async function colors(page: Page): Promise<{ bg: number; fg: number }> {
  const { bg, fg } = await page.evaluate(() => ({ bg: getComputedStyle(document.body).backgroundColor, fg: getComputedStyle(document.body).color }));
  return { bg: luminance(bg), fg: luminance(fg) };
}


describe("the home page", () => {
  it("says what this is, the server's mode, backend and version, and the nodes' free and used cores and gpus", async () => {
    const { page } = await env.open();
    await page.goto(env.server.url);
    const info = page.getByTestId("server-info");
    await poll(() => info.textContent()).toContain("single-user");
    expect(await info.textContent()).toContain("local");
    expect(await page.locator("p.lead").textContent()).toContain("Flux job scheduler");
    const nodes = await env.client.nodes();
    const cores = nodes.reduce((t, n) => t + n.cores, 0);
    const used = nodes.reduce((t, n) => t + n.coresAllocated, 0);
    const gpus = nodes.reduce((t, n) => t + n.gpus, 0);
    await poll(() => page.getByTestId("nodes-summary").textContent()).toContain(`${cores - used} of ${cores} cores free, ${used} used`);
    expect(await page.getByTestId("nodes-summary").textContent()).toContain(`of ${gpus} GPUs free`);
    expect(await page.locator("[data-testid=nodes] tbody tr").count()).toBe(nodes.length);
    await poll(() => page.getByTestId("active-jobs").textContent()).toMatch(/^\d+ active jobs? /);
  });
});

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

describe("every page", () => {
  it.each(PAGES)("shows the %s page at 1280x800 and at phone width without sideways scrolling, in light and dark", async (name, path, ready) => {
    const { page } = await env.open({ viewport: SIZES.desktop });
    await page.goto(`${env.server.url}${path()}`);
    await page.locator(ready).first().waitFor();
    for (const [size, viewport] of Object.entries(SIZES)) {
      await page.setViewportSize(viewport);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name} is wider than the ${size} viewport`).toBeLessThanOrEqual(0);
      const fontPx = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
      expect(fontPx).toBeGreaterThanOrEqual(14);
      // The same page under each system setting: the stylesheet follows it without a reload.
      for (const colorScheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme });
        const { bg, fg } = await colors(page);
        if (colorScheme === "dark") expect(bg).toBeLessThan(0.05);
        else expect(bg).toBeGreaterThan(0.9);
        // WCAG contrast ratio of body text on the background.
        expect((Math.max(bg, fg) + 0.05) / (Math.min(bg, fg) + 0.05)).toBeGreaterThan(7);
        await screenshot(page, `${name}-${size}-${colorScheme}`);
      }
    }
  });
});
