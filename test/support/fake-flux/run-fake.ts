/**
 * Runs the fake `flux` directly (not through the backend), for tests that compare it
 * with the transcripts.
 */
import { spawn } from "node:child_process";
import type { JobRequest } from "../../../server/backends/backend.js";
import { buildJobspec } from "../../../server/backends/flux/jobspec.js";
import type { FakeFlux } from "./fake-flux.js";

export interface FakeResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export function runFake(fake: FakeFlux, args: string[], options: { stdin?: string; env?: Record<string, string | undefined> } = {}): Promise<FakeResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { ...fake.baseEnvironment, FLUX_URI: fake.uri };
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(fake.fluxCommand, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.stdin.end(options.stdin ?? "");
    child.on("close", (code) =>
      resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), exitCode: code }),
    );
  });
}

/** A jobspec for `command` as flux submit would build it, runnable by the fake. */
export function jobspecFor(fake: FakeFlux, command: string[], over: Partial<JobRequest> = {}): string {
  const request: JobRequest = {
    command,
    numTasks: 1,
    coresPerTask: 1,
    gpusPerTask: 0,
    exclusive: false,
    cwd: "",
    environment: {},
    duration: 0,
    name: "",
    urgency: 16,
    queue: "",
    shellOptions: {},
    isLauncher: false,
    ...over,
  };
  return JSON.stringify(buildJobspec(request, { environment: fake.baseEnvironment, defaultCwd: "/tmp" }));
}

/** Submits through the fake's `flux job submit` and returns the printed id (ASCII F58). */
export async function submitToFake(fake: FakeFlux, command: string[], over: Partial<JobRequest> & { urgency?: number } = {}): Promise<string> {
  const r = await runFake(fake, ["job", "submit", `--urgency=${over.urgency ?? 16}`], {
    stdin: jobspecFor(fake, command, over),
    env: { FLUX_F58_FORCE_ASCII: "1" },
  });
  if (r.exitCode !== 0) throw new Error(`fake submit failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Waits until the fake job reaches INACTIVE (its eventlog has "clean"). */
export async function waitInactive(fake: FakeFlux, id: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await runFake(fake, ["job", "eventlog", id]);
    if (/ clean\n/.test(r.stdout)) return;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish: ${r.stdout}${r.stderr}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
