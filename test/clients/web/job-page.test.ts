/**
 * The job page in headless Chromium: stdout and stderr told apart, downloads, auto-scroll
 * that stops when the reader scrolls up, the keyboard path through cancel, and unknown jobs.
 */
import fs from "node:fs/promises";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { screenshot } from "../../support/browser.js";
import { outputText, poll, startUiEnv, type UiEnv } from "../../support/web-ui.js";

let env: UiEnv;
beforeAll(async () => {
  env = await startUiEnv();
});
afterEach(async () => {
  await env.checkPages();
});
afterAll(async () => {
  await env?.close();
});

const jobUrl = (id: string) => `${env.server.url}/job/${encodeURIComponent(id)}`;

async function downloadText(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button, exact: true }).click()]);
  const file = await download.path();
  return { name: download.suggestedFilename(), text: await fs.readFile(file, "utf8") };
}

describe("the job page", () => {
  it("tells stdout and stderr apart, filters them, and downloads them", async () => {
    // The pauses order the lines across the two pipes; half a second each leaves the server time
    // to read one pipe before the other is written, even on a busy machine.
    const id = await env.client.submit({ command: ["sh", "-c", "echo out-1; sleep 0.5; echo err-1 >&2; sleep 0.5; echo out-2; exit 3"], name: "two-streams" });
    const { page } = await env.open();
    await page.goto(jobUrl(id));
    await poll(() => page.getByTestId("job-result").textContent()).toBe("FAILED");
    await poll(() => page.getByTestId("output-state").textContent()).toContain("exit code 3");
    expect(await outputText(page, "stdout")).toBe("out-1\nout-2\n");
    expect(await outputText(page, "stderr")).toBe("err-1\n");
    expect(await outputText(page)).toBe("out-1\nerr-1\nout-2\n");
    const colors = await page.getByTestId("output").evaluate((el) =>
      ["stdout", "stderr"].map((s) => getComputedStyle(el.querySelector(`[data-stream="${s}"]`)!).color),
    );
    expect(colors[0]).not.toBe(colors[1]);
    expect(await page.locator('[data-attribute="returncode"]').textContent()).toBe("3");
    await screenshot(page, "job-two-streams");

    await page.getByLabel("stdout").uncheck();
    expect(await page.locator('[data-stream="stdout"]').first().isVisible()).toBe(false);
    expect(await page.locator('[data-stream="stderr"]').first().isVisible()).toBe(true);
    await page.getByLabel("stdout").check();
    expect(await page.locator('[data-stream="stdout"]').first().isVisible()).toBe(true);

    const all = await downloadText(page, "Download output");
    expect(all).toEqual({ name: `${id}.log`, text: "out-1\nerr-1\nout-2\n" });
    expect(await downloadText(page, "stdout only")).toEqual({ name: `${id}.stdout.log`, text: "out-1\nout-2\n" });
    expect(await downloadText(page, "stderr only")).toEqual({ name: `${id}.stderr.log`, text: "err-1\n" });
  });

  it("decodes UTF-8 split across chunks", async () => {
    // printf writes the two bytes of "é" with a pause between them: two chunks.
    const id = await env.client.submit({ command: ["sh", "-c", "printf 'caf\\303'; sleep 0.3; printf '\\251 🥞\\n'"] });
    const { page } = await env.open();
    await page.goto(jobUrl(id));
    await poll(() => outputText(page)).toBe("café 🥞\n");
  });

  it("follows new output at the bottom, stops when the reader scrolls up, and resumes on Jump to latest", async () => {
    const id = await env.client.submit({ command: ["sh", "-c", "i=0; while [ $i -lt 1500 ]; do i=$((i+1)); echo line $i; sleep 0.02; done"], name: "chatty" });
    const { page } = await env.open();
    await page.goto(jobUrl(id));
    const out = page.getByTestId("output");
    const lines = async () => (await outputText(page)).split("\n").length - 1;
    const scroll = () => out.evaluate((el) => ({ top: el.scrollTop, max: el.scrollHeight - el.clientHeight }));

    await poll(lines).toBeGreaterThan(60);
    let s = await scroll();
    expect(s.max).toBeGreaterThan(0);
    expect(s.max - s.top).toBeLessThanOrEqual(8);

    // The reader scrolls up with the mouse wheel: the view stays where they put it.
    await out.hover();
    await page.mouse.wheel(0, -400);
    await poll(() => page.getByTestId("output-state").textContent()).toBe("Scrolled up: not following new output.");
    const held = (await scroll()).top;
    const before = await lines();
    await poll(lines).toBeGreaterThan(before + 20);
    s = await scroll();
    expect(s.top).toBe(held);
    expect(s.max - s.top).toBeGreaterThan(100);
    const jump = page.getByRole("button", { name: "Jump to latest" });
    expect(await jump.isVisible()).toBe(true);
    await screenshot(page, "job-scrolled-up");

    await jump.click();
    expect(await jump.isVisible()).toBe(false);
    const after = await lines();
    await poll(lines).toBeGreaterThan(after + 20);
    s = await scroll();
    expect(s.max - s.top).toBeLessThanOrEqual(8);
    expect(await page.getByTestId("output-state").textContent()).toBe("Following new output.");
    await env.client.cancel(id);
  });

  it("can be driven by the keyboard: Cancel, Escape keeps the job, Tab and Enter cancel it", async () => {
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs/submit`);
    // From the top of the page, by Tab only, to the command box.
    for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.id)) !== "f-command"; i++) await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("f-command");
    await page.keyboard.type("sleep 120");
    await page.keyboard.press("Tab"); // the sh -c box
    await page.keyboard.press("Tab"); // the job name
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("f-name");
    await page.keyboard.type("by-keyboard");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/job\/[^/]+$/);
    await poll(() => page.getByTestId("job-state").textContent()).toBe("RUN");
    expect(await page.getByTestId("job-name").textContent()).toBe("by-keyboard");

    const cancelButton = page.getByRole("button", { name: "Cancel job…" });
    await cancelButton.focus();
    await page.keyboard.press("Enter");
    expect(await page.getByRole("dialog").isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Keep it");
    await page.keyboard.press("Escape");
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel job…");
    expect(await page.getByTestId("job-state").textContent()).toBe("RUN");

    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel the job");
    await page.keyboard.press("Enter");
    await poll(() => page.getByTestId("job-result").textContent()).toBe("CANCELED");
  });

  it("says so for a job that does not exist, and for a malformed id", async () => {
    const { page } = await env.open();
    await page.goto(`${env.server.url}/job/%C6%92zzzzzzzz`);
    await poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Job not found");
    expect(await page.getByRole("alert").textContent()).toContain("not found");
    await page.goto(`${env.server.url}/job/not-a-job-id`);
    await poll(() => page.getByRole("alert").textContent()).toMatch(/^Cannot show this job: id: /);
  });
});
