/**
 * The jobs table in headless Chromium: paging, sorting, filtering and search are done by the
 * server (the page asks ListJobs for one page at a time, never for everything).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { screenshot } from "../../support/browser.js";
import { poll, startUiEnv, type UiEnv } from "../../support/web-ui.js";

const JOBS = 30;
let env: UiEnv;
let ids: string[];

beforeAll(async () => {
  env = await startUiEnv();
  ids = [];
  // Names in an order unlike submission order, so sorting by name shows.
  for (let i = 0; i < JOBS; i++) ids.push(await env.client.submit({ command: ["true"], name: `batch-${String((i * 7) % JOBS).padStart(2, "0")}` }));
  for (const id of ids) {
    for await (const _ of env.client.watchEvents(id));
  }
}, 60_000);
afterEach(async () => {
  await env.checkPages();
});
afterAll(async () => {
  await env?.close();
});

const names = (page: Page) => page.locator('tbody [data-column="name"]').allTextContents();
const lastListJobs = (requests: { url(): string; postDataJSON(): unknown }[]) =>
  requests.filter((r) => r.url().endsWith("/ListJobs")).at(-1)!.postDataJSON() as Record<string, unknown>;

describe("the jobs table", () => {
  it("pages through the jobs with page tokens, one page per request", async () => {
    const { page, requests } = await env.open();
    await page.goto(`${env.server.url}/jobs?q=batch-&size=25`);
    await poll(() => page.getByTestId("jobs-status").textContent()).toBe(`Jobs 1–25 of ${JOBS}.`);
    expect(await page.locator("tbody tr").count()).toBe(25);
    expect(lastListJobs(requests)).toMatchObject({ pageSize: 25, search: "batch-", orderBy: "t_submit desc" });
    // Newest first, as the server orders them.
    expect(await page.locator("tbody tr").first().getAttribute("data-job-id")).toBe(ids.at(-1));
    await screenshot(page, "jobs-page-1");

    await page.getByRole("button", { name: "Next page →" }).click();
    await poll(() => page.getByTestId("jobs-status").textContent()).toBe(`Jobs 26–${JOBS} of ${JOBS}.`);
    expect(await page.locator("tbody tr").count()).toBe(JOBS - 25);
    expect(lastListJobs(requests).pageToken).not.toBe("");
    expect(await page.getByRole("button", { name: "Next page →" }).isDisabled()).toBe(true);
    expect(await page.locator("tbody tr").last().getAttribute("data-job-id")).toBe(ids[0]);

    await page.getByRole("button", { name: "← Newer page" }).click();
    await poll(() => page.getByTestId("jobs-status").textContent()).toBe(`Jobs 1–25 of ${JOBS}.`);
    expect(await page.getByRole("button", { name: "← Newer page" }).isDisabled()).toBe(true);
  });

  it("sorts on the server by the column clicked, ascending then descending", async () => {
    const { page, requests } = await env.open();
    await page.goto(`${env.server.url}/jobs?q=batch-&size=25`);
    await poll(() => page.locator("tbody tr").count()).toBe(25);
    const nameHeader = page.locator('th[data-column="name"]');
    await nameHeader.getByRole("button").click();
    await poll(() => names(page).then((n) => n[0])).toBe("batch-00");
    expect(await nameHeader.getAttribute("aria-sort")).toBe("ascending");
    expect(lastListJobs(requests).orderBy).toBe("name asc");
    const sorted = Array.from({ length: 25 }, (_, i) => `batch-${String(i).padStart(2, "0")}`);
    expect(await names(page)).toEqual(sorted);
    await poll(() => page.url()).toContain("order=name");

    await nameHeader.getByRole("button").click();
    await poll(() => names(page).then((n) => n[0])).toBe(`batch-${JOBS - 1}`);
    expect(await nameHeader.getAttribute("aria-sort")).toBe("descending");
    expect(lastListJobs(requests).orderBy).toBe("name desc");
    await screenshot(page, "jobs-sorted-by-name");
  });

  it("filters by state and result on the server", async () => {
    const failed = await env.client.submit({ command: ["false"], name: "batch-fails" });
    for await (const _ of env.client.watchEvents(failed));
    const { page, requests } = await env.open();
    await page.goto(`${env.server.url}/jobs?q=batch-`);
    await poll(() => page.locator("tbody tr").count()).toBe(JOBS + 1);
    await page.getByLabel("Show").selectOption("failed");
    await poll(() => page.locator("tbody tr").count()).toBe(1);
    expect(await page.locator("tbody tr").getAttribute("data-job-id")).toBe(failed);
    expect(lastListJobs(requests)).toMatchObject({ stateMask: 64, resultMask: 2 });
    await page.getByLabel("Search").fill("no-such-job-anywhere");
    await poll(() => page.getByTestId("jobs-status").textContent()).toBe("No jobs match.");
  });
});
