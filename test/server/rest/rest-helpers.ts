/**
 * Plain HTTP/1.1 helpers for the legacy REST tests: requests with fetch, and job ids read
 * from the raw JSON text (JSON.parse would round ids past 2^53).
 */
import { expect } from "vitest";

export interface RestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** JSON.parse of the body (ids may be rounded: use `ids` for them). */
  json: any;
  /** Every "id": <integer> in the body, exactly, in order. */
  ids: bigint[];
}

export async function request(url: string, init: RequestInit = {}): Promise<RestResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  const ids = [...text.matchAll(/"id":(\d+)/g)].map((m) => BigInt(m[1]!));
  return { status: res.status, headers: res.headers, text, json, ids };
}

export function createRestClient(baseUrl: string, authorization?: () => string | undefined) {
  const headersOf = (extra: Record<string, string> = {}) => {
    const auth = authorization?.();
    return { ...(auth ? { authorization: auth } : {}), ...extra };
  };
  return {
    get: (path: string, headers: Record<string, string> = {}) => request(`${baseUrl}${path}`, { headers: headersOf(headers) }),
    post: (path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
      request(`${baseUrl}${path}`, { method: "POST", body: init.body, headers: headersOf(init.headers) }),
    postJson: (path: string, body: unknown) =>
      request(`${baseUrl}${path}`, { method: "POST", body: JSON.stringify(body), headers: headersOf({ "content-type": "application/json" }) }),
    /** Submits `command` (a string, split like a shell) with more query fields; returns the exact id. */
    async submit(command: string, fields: Record<string, string> = {}): Promise<bigint> {
      const qs = new URLSearchParams({ command, ...fields });
      const res = await request(`${baseUrl}/v1/jobs/submit?${qs}`, { method: "POST", headers: headersOf() });
      expect(res.status, res.text).toBe(200);
      expect(res.json.Message).toBe("Job submit.");
      return res.ids[0]!;
    },
    /** Polls GET /v1/jobs/{id} until the job has the state (INACTIVE by default). */
    async waitFor(id: bigint | string, state = "INACTIVE", timeoutMs = 15_000): Promise<RestResponse> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await request(`${baseUrl}/v1/jobs/${id}`, { headers: headersOf() });
        expect(res.status, res.text).toBe(200);
        if (res.json.state === state) return res;
        if (res.json.state === "INACTIVE") throw new Error(`job ${id} ended while waiting for ${state}`);
        if (Date.now() > deadline) throw new Error(`job ${id} did not reach ${state} (last ${res.json.state})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

export type RestClient = ReturnType<typeof createRestClient>;

/** The 0.2 client's login payload: an HS256 JWT {user, pass, scope: "token"} signed with the shared secret. */
export async function legacyPayload(user: string, pass: string, secretKey: string): Promise<string> {
  const { SignJWT } = await import("jose");
  return new SignJWT({ user, pass, scope: "token" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secretKey));
}
