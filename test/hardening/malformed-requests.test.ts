/**
 * 10,000 malformed requests against the real server process: 9,000 with auth off (every RPC
 * over Connect JSON, Connect binary, gRPC and gRPC-web, every REST and plain HTTP route) and
 * 1,000 forged or broken credentials with auth on. Every answer must be a 4xx or the
 * protocol's client-error code with a clear message; nothing may be a 5xx, crash the server,
 * hang, or change anything (no job, user or stop); afterwards the server answers normally.
 *
 * A failure prints the seed: MALFORMED_SEED=<seed> replays the same requests.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/flux/restful/v1/admin_service_pb.js";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { readOutput, waitForState } from "../support/job-helpers.js";
import { createTransports } from "../support/transports.js";
import { generateCredentialAttacks, generateMalformedRequests } from "./malformed/generator.js";
import { judge, type Verdict } from "./malformed/judge.js";
import type { MalformedCase } from "./malformed/malformed-case.js";
import { rpcTargets } from "./malformed/rpc-catalog.js";
import { RPC_PROTOCOLS } from "./malformed/rpc-cases.js";
import { createRawClient } from "./raw-client.js";
import { killAllServerProcesses, startServerProcess, troubleIn, type ServerProcess } from "./server-process.js";

const SEED = Number(process.env.MALFORMED_SEED ?? Date.now() % 1_000_000);
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const CONCURRENCY = 16;

interface Run {
  verdicts: { c: MalformedCase; v: Verdict }[];
  failures: { c: MalformedCase; v: Verdict }[];
}

async function runCases(url: string, cases: MalformedCase[]): Promise<Run> {
  const client = createRawClient(url, { maxSockets: CONCURRENCY });
  const verdicts: Run["verdicts"] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          // Generous: the machine is shared; a hang is a request with no answer at all.
          verdicts.push({ c, v: judge(c, await client.send(c.request, 30_000)) });
        }
      }),
    );
  } finally {
    client.close();
  }
  return { verdicts, failures: verdicts.filter(({ v }) => !v.ok) };
}

/** The wrong answers, one example per kind of mistake. */
function report(run: Run): string {
  const kinds = new Map<string, { count: number; example: string }>();
  for (const { c, v } of run.failures) {
    const key = `[${c.family}] ${v.problem?.replace(/\d+/g, "N")}`;
    const kind = kinds.get(key) ?? { count: 0, example: `${c.target}: ${c.note.slice(0, 80)} -> ${v.code}: ${v.message.slice(0, 160)}` };
    kind.count++;
    kinds.set(key, kind);
  }
  const lines = [...kinds].map(([key, k]) => `- ${k.count} x ${key}\n    e.g. ${k.example}`);
  return `seed ${SEED}: ${run.failures.length} of ${run.verdicts.length} requests answered wrongly\n${lines.join("\n")}`;
}

/** The children of a process (jobs left running would show up here). */
async function childrenOf(pid: number): Promise<number> {
  const text = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.trim() === "" ? 0 : text.trim().split(/\s+/).length;
}

describe("malformed requests", () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "flux-restful-malformed-"));
  });
  afterAll(async () => {
    await killAllServerProcesses();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  describe("auth off: 9,000 requests over every RPC, protocol and route", () => {
    let server: ServerProcess;
    let run: Run;
    let cases: MalformedCase[];
    let baselineId: string;
    /** Children of the server once it has run a job (its spawn helper, if it uses one). */
    let baselineChildren: number;

    beforeAll(async () => {
      server = await startServerProcess({
        dataDir: path.join(dataDir, "off"),
        env: {
          FLUX_RESTFUL_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES),
          FLUX_RESTFUL_MAX_HEADER_BYTES: String(MAX_HEADER_BYTES),
          FLUX_RESTFUL_LOCAL_CORES: "2",
        },
      });
      const jobs = createClient(JobService, createTransports(server.url)["connect-json-h1"]);
      // One job that exists, so range checks past the lookup are reached.
      baselineId = (await jobs.submitJob({ command: ["echo", "baseline"] })).id;
      await waitForState(jobs, baselineId);
      baselineChildren = await childrenOf(server.pid);
      cases = generateMalformedRequests({ seed: SEED, count: 9000, maxRequestBytes: MAX_REQUEST_BYTES, maxHeaderBytes: MAX_HEADER_BYTES, existingJobId: baselineId });
      run = await runCases(server.url, cases);
    }, 600_000);

    it("answers every one with a 4xx or a client-error code and a clear message", () => {
      expect(run.verdicts).toHaveLength(9000);
      expect(run.failures.length, report(run)).toBe(0);
    });

    it("covered every RPC on every protocol, and every route", () => {
      const targets = new Set(cases.map((c) => c.target.replace(/ \(HTTP\/.*$/, "")));
      for (const t of rpcTargets({ existingJobId: baselineId })) for (const p of RPC_PROTOCOLS) expect(targets).toContain(`${t.name} over ${p}`);
      const routes = new Set(cases.filter((c) => c.answer === "http").map((c) => c.target.replace(/ \(HTTP\/.*$/, "")));
      const restTargets = [...routes].join("\n");
      for (const route of ["/v1/token", "/v1/login/access-token", "/v1/jobs", "/v1/jobs/search", "/v1/jobs/submit", "/v1/nodes", "/v1/service/stop", "/openapi.json", "/healthz", "/readyz"]) {
        expect(restTargets).toContain(` ${route}`);
      }
      for (const pattern of [/^GET \/v1\/jobs\/[^/]+$/m, /^POST \/v1\/jobs\/[^/]+\/cancel$/m, /^GET \/v1\/jobs\/[^/]+\/output$/m, /^GET \/v1\/jobs\/[^/]+\/output\/stream$/m]) {
        expect(restTargets).toMatch(pattern);
      }
      const families = new Set(cases.map((c) => c.family));
      for (const f of ["semantic", "json-syntax", "json-wrong-type", "json-unknown-field", "invalid-utf8", "binary-garbage", "binary-structure", "envelope", "compression", "content-type", "http-method", "oversized", "id", "submit", "header", "path"]) {
        expect(families).toContain(f);
      }
    });

    it("did not crash, log an error, or change anything", async () => {
      expect(server.isRunning()).toBe(true);
      expect(troubleIn(server.logs)).toEqual([]);
      const transports = createTransports(server.url);
      const jobs = createClient(JobService, transports["connect-binary-h2"]);
      const list = await jobs.listJobs({});
      expect(list.jobs.map((j) => j.id)).toEqual([baselineId]);
      const users = await createClient(AdminService, transports.grpc).listUsers({});
      expect(users.users).toEqual([]);
      expect(await childrenOf(server.pid)).toBe(baselineChildren);
    }, 120_000);

    it("answers normally afterwards, on every protocol", async () => {
      const transports = createTransports(server.url);
      for (const name of ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"] as const) {
        const jobs = createClient(JobService, transports[name]);
        const { id } = await jobs.submitJob({ command: ["sh", "-c", `echo after ${name}`] });
        const job = await waitForState(jobs, id);
        expect(job.returncode).toBe(0);
        expect((await readOutput(jobs, id)).stdout).toBe(`after ${name}\n`);
      }
      const res = await fetch(`${server.url}/v1/jobs?details=true&listing=true`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as unknown[]).length).toBe(5);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(troubleIn(server.logs)).toEqual([]);
    }, 120_000);
  });

  describe("auth on: 1,000 forged and broken credentials", () => {
    let server: ServerProcess;
    let run: Run;
    let accessToken: string;

    beforeAll(async () => {
      server = await startServerProcess({
        dataDir: path.join(dataDir, "on"),
        env: { FLUX_REQUIRE_AUTH: "true", FLUX_USER: "admin", FLUX_TOKEN: "right-password", FLUX_SECRET_KEY: "s".repeat(32) },
      });
      const forgedToken = await new SignJWT({ sub: "admin" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode("k".repeat(32)));
      // Taken before the attack: the burst of wrong passwords rate-limits passwords from this address, not tokens.
      const login = await fetch(`${server.url}/v1/login/access-token`, { method: "POST", body: new URLSearchParams({ username: "admin", password: "right-password" }) });
      accessToken = ((await login.json()) as { access_token: string }).access_token;
      run = await runCases(server.url, generateCredentialAttacks({ seed: SEED, count: 1000, forgedToken }));
    }, 300_000);

    it("refuses every one as unauthenticated or rate-limited, with a clear message", () => {
      expect(run.verdicts).toHaveLength(1000);
      expect(run.failures.length, report(run)).toBe(0);
    });

    it("still serves the right credentials, and changed nothing", async () => {
      expect(server.isRunning()).toBe(true);
      expect(troubleIn(server.logs)).toEqual([]);
      const res = await fetch(`${server.url}/v1/jobs?listing=true&details=true`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([]);
    });
  });
});
