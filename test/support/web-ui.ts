/**
 * What each web UI test file needs: a real server (local backend, port 0) serving the built
 * UI, a headless Chromium, an SDK client for setting up jobs, and checks run on every page
 * a test opened: no script errors, no dialog (an injected script would open one), and every
 * API call a Connect POST with a JSON body and the server's own Origin.
 */
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { expect } from "vitest";
import { createFluxClient, type FluxClient } from "../../clients/sdk/node.js";
import { launchBrowser, openPage, procedureOf, type WatchedPage } from "./browser.js";
import { startTestServer, type TestServerOptions, type TestServer } from "./start-test-server.js";

export interface UiEnv {
  server: TestServer;
  browser: Browser;
  /** An SDK client of the server (no credentials unless given). */
  client: FluxClient;
  /** Opens a watched page in a fresh context; checked and closed by checkPages(). */
  open(options?: BrowserContextOptions): Promise<WatchedPage>;
  /** Runs the checks on every page opened since the last call, then closes them. */
  checkPages(): Promise<void>;
  close(): Promise<void>;
}

/** Paths a page may GET: the page shells and the assets. */
const GET_ALLOWED = /^\/(?:|jobs|jobs\/submit|users|login|job\/[^/]+|static\/[\w.-]+)$/;

/** The procedures that change state. */
export const STATE_CHANGING = new Set([
  "JobService/SubmitJob",
  "JobService/CancelJob",
  "AdminService/CreateUser",
  "AdminService/DeleteUser",
  "AdminService/SetUserPassword",
  "AdminService/SetUserActive",
  "AdminService/StopService",
]);

export async function checkRequests(watched: WatchedPage, origin: string): Promise<void> {
  for (const request of watched.requests) {
    const url = new URL(request.url());
    if (url.protocol === "blob:" || url.protocol === "data:") continue;
    expect(url.origin, `request to another origin: ${request.url()}`).toBe(origin);
    if (request.method() === "GET") {
      expect(url.pathname, "GET of something that is not a page or an asset").toMatch(GET_ALLOWED);
      continue;
    }
    expect(procedureOf(request), `${request.method()} ${url.pathname} is not a Connect call`).toBeDefined();
    expect(request.method()).toBe("POST");
    // allHeaders(): headers() leaves out those the browser adds itself, Origin among them.
    const headers = await request.allHeaders();
    // Unary calls are application/json; server streams are Connect's streaming JSON.
    expect(headers["content-type"]).toMatch(/^application\/(?:connect\+)?json$/);
    if (STATE_CHANGING.has(procedureOf(request)!)) expect(headers["content-type"]).toBe("application/json");
    expect(headers.origin).toBe(origin);
  }
}

export async function startUiEnv(options: TestServerOptions & { user?: string; token?: string } = {}): Promise<UiEnv> {
  const server = await startTestServer({ ...options, env: { FLUX_RESTFUL_LOCAL_CORES: "4", ...options.env } });
  let browser: Browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await server.close();
    throw e;
  }
  const client = createFluxClient({ baseUrl: server.url, user: options.user, token: options.token, env: {} });
  let pages: WatchedPage[] = [];
  return {
    server,
    browser,
    client,
    async open(contextOptions) {
      const watched = await openPage(browser, contextOptions);
      pages.push(watched);
      return watched;
    },
    async checkPages() {
      const open = pages;
      pages = [];
      try {
        for (const watched of open) {
          expect(watched.errors).toEqual([]);
          expect(watched.dialogs).toEqual([]);
          await checkRequests(watched, server.url);
        }
      } finally {
        for (const watched of open) await watched.context.close();
      }
    },
    async close() {
      for (const watched of pages) await watched.context.close().catch(() => undefined);
      await browser.close();
      await server.close();
    },
  };
}

/** The job output shown, as text: stdout and stderr (default), or one of them. */
export function outputText(page: Page, stream?: "stdout" | "stderr"): Promise<string> {
  const selector = stream ? `[data-stream="${stream}"]` : '[data-stream="stdout"],[data-stream="stderr"]';
  return page.getByTestId("output").evaluate((el, sel) => [...el.querySelectorAll(sel)].map((s) => s.textContent).join(""), selector);
}

/** The job id of a job page's URL. */
export function jobIdOf(page: Page): string {
  return decodeURIComponent(new URL(page.url()).pathname.split("/")[2] ?? "");
}

/** expect.poll with room for a loaded machine: pages and jobs can take seconds when CI is busy. */
export function poll<T>(fn: () => T | Promise<T>, options: { timeout?: number; interval?: number } = {}) {
  return expect.poll(fn, { timeout: 15_000, interval: 50, ...options });
}
