/**
 * The web UI with auth on, in headless Chromium: the login over HTTP Basic, refusal of a wrong
 * password, a logout that leaves the browser unable to make an authenticated call, the users
 * page for superusers, and what a user who is not one sees.
 */
import type { Page, Response } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createFluxClient } from "../../../clients/sdk/node.js";
import { screenshot, watch } from "../../support/browser.js";
import { poll, startUiEnv, type UiEnv } from "../../support/web-ui.js";

const BOSS_PW = "boss-password-for-web-tests";
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

let env: UiEnv;
beforeAll(async () => {
  env = await startUiEnv({
    env: { FLUX_REQUIRE_AUTH: "true", FLUX_SECRET_KEY: "web-test-shared-secret-0123456789abcdef", FLUX_USER: "boss", FLUX_TOKEN: BOSS_PW },
    deps: { authTuning: { scryptCost: { log2N: 10, r: 8, p: 1 } } },
    user: "boss",
    token: BOSS_PW,
  });
});
afterEach(async () => {
  await env.checkPages();
});
afterAll(async () => {
  await env?.close();
});

async function login(page: Page, user: string, password: string): Promise<void> {
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

const storedCredential = (page: Page) => page.evaluate(() => sessionStorage.getItem("flux-restful.authorization"));

describe("login", () => {
  it("asks for a login, refuses a wrong password with the server's message, and lets the right one in over HTTP Basic", async () => {
    const { page, requests } = await env.open();
    const responses: Response[] = [];
    page.on("response", (r) => responses.push(r));
    await page.goto(`${env.server.url}/jobs`);
    await page.waitForURL(/\/login\?next=%2Fjobs$/);
    expect(await page.getByTestId("jobs-table").count()).toBe(0);
    await screenshot(page, "login");

    await login(page, "boss", "not-the-password");
    await poll(() => page.getByRole("alert").textContent()).toBe("Login refused: incorrect user name or password");
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(await storedCredential(page)).toBeNull();
    const tried = requests.filter((r) => r.url().endsWith(".AuthService/WhoAmI")).at(-1)!;
    expect((await tried.allHeaders()).authorization).toBe(basic("boss", "not-the-password"));
    await screenshot(page, "login-refused");

    await login(page, "boss", BOSS_PW);
    await page.waitForURL(/\/jobs$/);
    await poll(() => page.getByTestId("username").textContent()).toBe("boss");
    await page.getByTestId("jobs-status").filter({ hasText: /Jobs|No jobs/ }).waitFor();
    const listed = requests.filter((r) => r.url().endsWith(".JobService/ListJobs")).at(-1)!;
    expect((await listed.allHeaders()).authorization).toBe(basic("boss", BOSS_PW));
    // The server never challenged the page with Basic, so the browser holds no password of its own.
    for (const r of responses) expect((await r.allHeaders())["www-authenticate"] ?? "").not.toMatch(/basic/i);
  });
});

describe("logout", () => {
  it("ends the session for real: credentials gone from this tab and the other tabs, and the browser cannot call as the user", async () => {
    const a = await env.open();
    await a.page.goto(`${env.server.url}/jobs`);
    await login(a.page, "boss", BOSS_PW);
    await a.page.waitForURL(/\/jobs$/);
    // A second tab of the same browser takes the login over from the first: no second login.
    const b = watch(await a.context.newPage(), a.context);
    await b.page.goto(`${env.server.url}/`);
    await poll(() => b.page.getByTestId("username").textContent()).toBe("boss");
    expect(await storedCredential(b.page)).toBe(basic("boss", BOSS_PW));

    await a.page.getByRole("button", { name: "Log out" }).click();
    await a.page.waitForURL(/\/login/);
    expect(await a.page.locator(".alert.info").textContent()).toBe("You are logged out.");
    expect(await storedCredential(a.page)).toBeNull();
    await b.page.waitForURL(/\/login/);
    expect(await storedCredential(b.page)).toBeNull();
    await screenshot(a.page, "logged-out");

    // Reload and Back both land on the login page; nothing is shown from before.
    await a.page.reload();
    await a.page.getByLabel("User name").waitFor();
    await a.page.goBack();
    await a.page.waitForURL(/\/login/);
    expect(await a.page.getByTestId("jobs-table").count()).toBe(0);
    // The browser itself has no credentials left to send.
    const status = await a.page.evaluate(async () => {
      const res = await fetch("/flux.restful.v1.JobService/ListJobs", { method: "POST", headers: { "content-type": "application/json" }, body: "{}", credentials: "include" });
      return res.status;
    });
    expect(status).toBe(401);
    // A tab opened after the logout finds nobody to take a login from.
    const c = await a.context.newPage();
    await c.goto(`${env.server.url}/jobs`);
    await c.waitForURL(/\/login\?next=%2Fjobs$/);
    expect(await c.getByTestId("jobs-table").count()).toBe(0);
    // Logging out changed nothing on the server and sent no request.
    expect(a.requests.filter((r) => r.method() !== "GET" && !/WhoAmI|ListJobs|ListNodes/.test(r.url()))).toEqual([]);
  });
});

describe("users", () => {
  it("lets a superuser add and deactivate users; a deactivated user cannot log in", async () => {
    const { page } = await env.open();
    await page.goto(`${env.server.url}/users`);
    await login(page, "boss", BOSS_PW);
    await page.waitForURL(/\/users$/);
    await page.getByLabel("Name", { exact: true }).fill("carol");
    await page.getByLabel("Password", { exact: true }).fill("carol-pw");
    await page.getByRole("button", { name: "Add user" }).click();
    const carol = page.locator('tr[data-user="carol"]');
    await poll(() => carol.locator('[data-column="active"]').textContent()).toBe("yes");
    expect(env.server.server.auth.users.get("carol")?.active).toBe(true);

    await page.getByLabel("Name", { exact: true }).fill("carol");
    await page.getByLabel("Password", { exact: true }).fill("other");
    await page.getByRole("button", { name: "Add user" }).click();
    await poll(() => page.locator("#new-user-error").textContent()).toMatch(/carol.*already exists|already exists.*carol/);

    await page.getByRole("button", { name: "Deactivate carol" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Deactivate" }).click();
    await poll(() => carol.locator('[data-column="active"]').textContent()).toBe("no");
    expect(env.server.server.auth.users.get("carol")?.active).toBe(false);
    await screenshot(page, "users");

    const other = await env.open();
    await other.page.goto(`${env.server.url}/login`);
    await login(other.page, "carol", "carol-pw");
    await poll(() => other.page.getByRole("alert").textContent()).toContain('user "carol" is inactive');
    expect(await storedCredential(other.page)).toBeNull();

    await page.getByRole("button", { name: "Activate carol" }).click();
    await poll(() => carol.locator('[data-column="active"]').textContent()).toBe("yes");
    await login(other.page, "carol", "carol-pw");
    await other.page.waitForURL((u) => u.pathname === "/");
    await poll(() => other.page.getByTestId("username").textContent()).toBe("carol");
  });

  it("sends a logged-in user back to the login page once their password is changed elsewhere", async () => {
    await env.server.server.auth.users.create({ name: "erin", password: "erin-pw", superuser: false });
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs`);
    await login(page, "erin", "erin-pw");
    await page.waitForURL(/\/jobs$/);
    await env.server.server.auth.users.setPassword("erin", "erin-new-pw");
    // The table's next refresh is refused; the page drops the credentials and asks again.
    await page.waitForURL(/\/login\?next=%2Fjobs$/, { timeout: 10_000 });
    expect(await page.locator(".alert.info").textContent()).toContain("log in again");
    expect(await storedCredential(page)).toBeNull();
    await login(page, "erin", "erin-new-pw");
    await page.waitForURL(/\/jobs$/);
  });

  it("shows a user who is not a superuser only their own jobs, and no users page", async () => {
    await env.server.server.auth.users.create({ name: "dave", password: "dave-pw", superuser: false });
    const bossJob = await env.client.submit({ command: ["true"], name: "boss-job" });
    const dave = createFluxClient({ baseUrl: env.server.url, user: "dave", token: "dave-pw", env: {} });
    const daveJob = await dave.submit({ command: ["true"], name: "dave-job" });
    const { page } = await env.open();
    await page.goto(`${env.server.url}/jobs`);
    await login(page, "dave", "dave-pw");
    await page.waitForURL(/\/jobs$/);
    await poll(() => page.locator(`tr[data-job-id="${daveJob}"]`).count()).toBe(1);
    expect(await page.locator(`tr[data-job-id="${bossJob}"]`).count()).toBe(0);
    expect(await page.getByRole("navigation").getByRole("link", { name: "Users" }).count()).toBe(0);

    await page.goto(`${env.server.url}/users`);
    await poll(() => page.getByRole("alert").textContent()).toMatch(/^Only superusers can manage users: /);
    await page.goto(`${env.server.url}/job/${encodeURIComponent(bossJob)}`);
    await poll(() => page.getByRole("alert").textContent()).toContain("belongs to another user");
  });
});
