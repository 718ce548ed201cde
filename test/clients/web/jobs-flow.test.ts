/**
 * The web UI in headless Chromium against a real server (local backend, auth off): submit
 * from the form, follow the output line by line, find the job in the table, cancel a running
 * job, see validation messages by their fields, and names and output shown as text.
 */
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "../../../clients/sdk/index.js";
import { openPage, screenshot } from "../../support/browser.js";
import { jobIdOf, outputText, poll, startUiEnv, type UiEnv } from "../../support/web-ui.js";

let env: UiEnv;
/** Gate files that jobs wait for, so a test decides when a job goes on (never a race with a sleep). */
let gateDir: string;
beforeAll(async () => {
  env = await startUiEnv();
  gateDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-web-gates-"));
});
afterEach(async () => {
  await env.checkPages();
});
afterAll(async () => {
  await env?.close();
  if (gateDir) await fs.rm(gateDir, { recursive: true, force: true });
});

/** A loop that prints line i only once gate file i exists in dir. */
const gatedLoop = (dir: string) => `for i in 1 2 3 4 5; do while [ ! -e ${dir}/$i ]; do sleep 0.05; done; echo $i; done`;

describe("the submit form, the job page and the jobs table", () => {
  it("submits a shell loop, shows its output line by line as written, then finds the job in the table", async () => {
    const gates = await fs.mkdtemp(path.join(gateDir, "loop-"));
    const LOOP = gatedLoop(gates);
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs/submit`);
    await page.getByLabel("Command", { exact: true }).fill(LOOP);
    await page.getByLabel(/Run the command with sh -c/).check();
    await page.getByLabel("Job name").fill("count-to-five");
    await screenshot(page, "submit-form");
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    await page.waitForURL(/\/job\/[^/]+$/);
    const id = jobIdOf(page);
    expect(id).toMatch(/^ƒ/);
    await poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(`Job ${id}`);

    // The job writes line i only when the test opens gate i, which it does once the page shows
    // the lines before it: each line is seen on its own, before the next one exists. (A job
    // printing one line a second raced the page load on a busy machine.)
    const prefixes = ["1\n", "1\n2\n", "1\n2\n3\n", "1\n2\n3\n4\n", "1\n2\n3\n4\n5\n"];
    expect(await outputText(page)).toBe("");
    for (const [i, prefix] of prefixes.entries()) {
      await fs.writeFile(path.join(gates, String(i + 1)), "");
      await poll(() => outputText(page)).toBe(prefix);
    }

    await poll(() => page.getByTestId("job-result").textContent()).toBe("COMPLETED");
    expect(await page.getByTestId("job-state").textContent()).toBe("INACTIVE");
    await poll(() => page.getByTestId("output-state").textContent()).toContain("exit code 0");
    await poll(() => page.getByTestId("events-state").textContent()).toBe("The eventlog is complete.");
    const events = await page.locator("[data-testid=timeline] li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-event")));
    expect(events[0]).toBe("submit");
    expect(events).toEqual(expect.arrayContaining(["start", "finish", "clean"]));
    expect(await page.locator('[data-attribute="command"]').textContent()).toBe(`sh -c '${LOOP}'`);
    expect(await page.locator('[data-attribute="returncode"]').textContent()).toBe("0");
    await screenshot(page, "job-completed");

    // The same job, found in the table by the server-side search.
    const decoy = await env.client.submit({ command: ["true"], name: "decoy" });
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.waitForURL(/\/jobs$/);
    const row = page.locator(`tr[data-job-id="${id}"]`);
    await poll(() => page.locator(`tr[data-job-id="${decoy}"]`).count()).toBe(1);
    expect(await row.count()).toBe(1);
    const searched = page.waitForRequest((r) => r.url().endsWith("/ListJobs") && (r.postDataJSON() as { search?: string }).search === "count-to-five");
    await page.getByLabel("Search").fill("count-to-five");
    await searched;
    await poll(() => page.locator("tbody tr").count()).toBe(1);
    expect(await row.count()).toBe(1);
    expect(await row.locator('[data-column="name"]').textContent()).toBe("count-to-five");
    expect(await row.locator('[data-column="result"]').textContent()).toBe("COMPLETED");
    expect(await row.locator('[data-column="returncode"]').textContent()).toBe("0");
    await poll(() => page.url()).toContain("q=count-to-five");
    await screenshot(page, "jobs-search");

    await row.getByRole("link", { name: id }).click();
    await page.waitForURL((url) => decodeURIComponent(url.pathname) === `/job/${id}`);
    await poll(() => outputText(page)).toBe("1\n2\n3\n4\n5\n");
  });

  it("updates a job's state in the table while it runs, without reloading", async () => {
    const name = `live-${Date.now()}`;
    // Runs until the test opens its gate (a fixed sleep could end before a slow page showed RUN).
    const gate = path.join(gateDir, name);
    const id = await env.client.submit({ command: ["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.05; done', gate], name });
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs?q=${name}`);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const state = page.locator(`tr[data-job-id="${id}"] [data-column="state"]`);
    await poll(() => state.textContent()).toBe("RUN");
    await fs.writeFile(gate, "");
    await poll(() => state.textContent()).toBe("INACTIVE");
    expect(await page.locator(`tr[data-job-id="${id}"] [data-column="result"]`).textContent()).toBe("COMPLETED");
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
  });

  it("cancels a running job only after confirmation, then shows CANCELED", async () => {
    const id = await env.client.submit({ command: ["sleep", "300"], name: "to-cancel" });
    const { page, requests } = await env.open();
    await page.goto(`${env.server.url}/job/${encodeURIComponent(id)}`);
    await poll(() => page.getByTestId("job-state").textContent()).toBe("RUN");

    await page.getByRole("button", { name: "Cancel job…" }).click();
    const dialog = page.getByRole("dialog");
    expect(await dialog.getByRole("heading").textContent()).toBe(`Cancel job ${id}?`);
    await screenshot(page, "job-cancel-dialog");
    await dialog.getByRole("button", { name: "Keep it" }).click();
    expect(await dialog.count()).toBe(0);
    await page.waitForTimeout(300);
    expect(requests.filter((r) => r.url().endsWith("/CancelJob"))).toHaveLength(0);
    expect((await env.client.get(id)).state).toBe(JobState.RUN);

    await page.getByRole("button", { name: "Cancel job…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel the job" }).click();
    await poll(() => page.getByTestId("job-result").textContent()).toBe("CANCELED");
    expect(await page.getByTestId("job-state").textContent()).toBe("INACTIVE");
    expect(await page.getByRole("button", { name: "Cancel job…" }).isHidden()).toBe(true);
    await poll(() => page.locator('[data-testid=timeline] li[data-event="exception"]').count()).toBe(1);
    expect(await page.locator('[data-attribute="exception"]').textContent()).toContain("cancel");
    expect(requests.filter((r) => r.url().endsWith("/CancelJob"))).toHaveLength(1);
    await screenshot(page, "job-canceled");
  });

  it("shows the server's validation message next to the field it names, keeping what was typed", async () => {
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs/submit`);
    await page.getByLabel("Command", { exact: true }).fill("hostname");
    await page.getByLabel("Job name").fill("invalid-form");
    await page.getByLabel("Tasks").fill("1");
    await page.getByLabel("Nodes", { exact: true }).fill("3");
    await page.getByRole("button", { name: "Submit", exact: true }).click();

    const error = page.locator('[data-field="num_nodes"] .field-error');
    await poll(() => error.textContent()).toBe("num_nodes: must not be greater than num_tasks (3 > 1)");
    expect(await page.locator("#f-num_nodes").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#f-num_nodes").getAttribute("aria-describedby")).toContain("err-num_nodes");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("f-num_nodes");
    expect(await page.locator(".field-error:not([hidden])").count()).toBe(1);
    expect(await page.getByLabel("Job name").inputValue()).toBe("invalid-form");
    await screenshot(page, "submit-invalid");

    // Fixing it and breaking another field moves the message there.
    await page.getByLabel("Nodes", { exact: true }).fill("");
    await page.getByLabel("Working directory").fill("relative/dir");
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    await poll(() => page.locator('[data-field="workdir"] .field-error').textContent()).toBe('workdir: must be an absolute path (got "relative/dir")');
    expect(await error.isHidden()).toBe(true);
    // A launcher the server does not allow, and an environment variable name it refuses.
    await page.getByLabel("Working directory").fill("");
    await page.getByLabel(/workflow launcher/).check();
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    await poll(() => page.locator('[data-field="is_launcher"] .field-error').textContent()).toMatch(/^is_launcher: "hostname" is not an allowed launcher/);
    await page.getByLabel(/workflow launcher/).uncheck();
    await page.getByLabel("Environment variables").fill("GOOD=1\n1BAD=2");
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    await poll(() => page.locator('[data-field="environment"] .field-error').textContent()).toBe('environment: invalid name "1BAD"');
    expect(new URL(page.url()).pathname).toBe("/jobs/submit");
    const listed = await env.client.jobs.listJobs({ name: "invalid-form" });
    expect(listed.totalSize).toBe(0);
  });

  it("sends every field of the form in the SubmitJob request", async () => {
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs/submit`);
    await page.getByLabel("Command", { exact: true }).fill(`printf '%s\n' "$GREETING" "two words"`);
    await page.getByLabel(/Run the command with sh -c/).check();
    await page.getByLabel("Job name").fill("all-fields");
    await page.getByLabel("Tasks").fill("2");
    await page.getByLabel("Cores per task").fill("1");
    await page.getByLabel("GPUs per task").fill("0");
    await page.getByLabel("Nodes", { exact: true }).fill("1");
    await page.getByLabel(/^Exclusive/).check();
    await page.getByLabel("Working directory").fill("/tmp");
    await page.getByLabel("Time limit", { exact: true }).fill("1.5");
    await page.getByLabel("Time limit unit").selectOption("m");
    await page.getByLabel("Urgency").fill("20");
    await page.getByLabel("Queue").fill("batch");
    await page.getByLabel("Environment variables").fill("GREETING=hello=world\n# a comment\nEMPTY=");
    await page.getByLabel("Shell options").fill("cpu-affinity=off\nverbose");
    const sent = page.waitForRequest((r) => r.url().endsWith("/SubmitJob"));
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    expect((await sent).postDataJSON()).toEqual({
      command: ["sh", "-c", `printf '%s\n' "$GREETING" "two words"`],
      name: "all-fields",
      numTasks: 2,
      coresPerTask: 1,
      gpusPerTask: 0,
      numNodes: 1,
      exclusive: true,
      workdir: "/tmp",
      timeLimitSeconds: 90,
      urgency: 20,
      queue: "batch",
      environment: { GREETING: "hello=world", EMPTY: "" },
      shellOptions: { "cpu-affinity": "off", verbose: "1" },
    });
    await page.waitForURL(/\/job\/[^/]+$/);
    await poll(() => outputText(page)).toBe("hello=world\ntwo words\nhello=world\ntwo words\n");
    expect(await page.locator('[data-attribute="duration"]').textContent()).toBe("1m 30s (90 s)");
    expect(await page.locator('[data-attribute="urgency"]').textContent()).toBe("20");
    expect(await page.locator('[data-attribute="cwd"]').textContent()).toBe("/tmp");
    expect(await page.locator('[data-attribute="queue"]').textContent()).toBe("batch");
    expect(await page.locator('[data-attribute="ntasks"]').textContent()).toBe("2");
  });

  it("refuses state changes that a page of another origin makes the browser send", async () => {
    const target = env.server.url;
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><form id="f" method="POST" action="${target}/v1/jobs/submit?command=echo%20csrf-form"></form>
        <script>
          fetch("${target}/flux.restful.v1.JobService/SubmitJob", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" },
            body: JSON.stringify({ command: ["echo", "csrf-fetch"] }) }).finally(() => document.getElementById("f").submit());
        </script>`);
    });
    await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
    let cleanup = async () => {};
    try {
      // Not env.open(): this page is meant to talk to another origin.
      const { page, context } = await openPage(env.browser);
      cleanup = () => context.close();
      // "localhost" is another origin than the server's "127.0.0.1", though the same machine.
      const formPost = page.waitForResponse((r) => r.url().includes("/v1/jobs/submit"));
      await page.goto(`http://localhost:${(evil.address() as { port: number }).port}/`);
      const refused = await formPost;
      expect(refused.status()).toBe(403);
      expect(await refused.request().headerValue("origin")).toMatch(/^http:\/\/localhost:/);
      for (const search of ["csrf-form", "csrf-fetch"]) expect((await env.client.jobs.listJobs({ search })).totalSize).toBe(0);
      expect(env.server.logs.filter((l) => l.msg === "cross-origin request refused").length).toBeGreaterThanOrEqual(1);
    } finally {
      await cleanup();
      evil.closeAllConnections();
      await new Promise((r) => evil.close(r));
    }
  });

  it("shows a job named like markup, and markup in its output, as text", async () => {
    const name = "<img src=x onerror=alert(1)>";
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs/submit`);
    await page.getByLabel("Command", { exact: true }).fill("echo '<b>bold</b><script>alert(2)</script>'");
    await page.getByLabel("Job name").fill(name);
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    await page.waitForURL(/\/job\/[^/]+$/);
    const id = jobIdOf(page);
    expect(await page.getByTestId("job-name").textContent()).toBe(name);
    expect(await page.locator('[data-attribute="name"]').textContent()).toBe(name);
    await poll(() => outputText(page)).toBe("<b>bold</b><script>alert(2)</script>\n");
    expect(await page.locator("main img, main b, main script").count()).toBe(0);
    await screenshot(page, "job-markup-name");

    await page.goto(`${env.server.url}/jobs?q=${encodeURIComponent("onerror")}`);
    const cell = page.locator(`tr[data-job-id="${id}"] [data-column="name"]`);
    await poll(() => cell.textContent()).toBe(name);
    expect(await page.locator("main img").count()).toBe(0);
    await page.waitForTimeout(300);
    // checkPages() (afterEach) fails the test if any alert() ran.
  });
});
