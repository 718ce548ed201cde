/**
 * Small helpers over a JobService client for end-to-end tests.
 */
import type { Client } from "@connectrpc/connect";
import { ConnectError, type Code } from "@connectrpc/connect";
import { JobState, OutputStream, type Job } from "../../gen/flux/restful/v1/job_pb.js";
import type { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";

export type JobClient = Client<typeof JobService>;

/** Polls GetJob until the job is INACTIVE (or the given state), failing after timeoutMs. */
export async function waitForState(
  client: JobClient,
  id: string,
  state: JobState = JobState.INACTIVE,
  timeoutMs = 20_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { job } = await client.getJob({ id });
    if (job && job.state === state) return job;
    if (job && job.state === JobState.INACTIVE && state !== JobState.INACTIVE) {
      throw new Error(`job ${id} became INACTIVE while waiting for ${JobState[state]}`);
    }
    if (Date.now() > deadline) throw new Error(`job ${id} did not reach ${JobState[state]} (last: ${job && JobState[job.state]})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The job's output so far, as text per stream. */
export async function readOutput(client: JobClient, id: string): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
  let offset = 0n;
  for (;;) {
    const page = await client.getJobOutput({ id, offset });
    for (const c of page.chunks) (c.stream === OutputStream.STDERR ? out.stderr : out.stdout).push(c.data);
    if (page.nextOffset === offset || page.chunks.length === 0) break;
    offset = page.nextOffset;
  }
  return { stdout: Buffer.concat(out.stdout).toString("utf8"), stderr: Buffer.concat(out.stderr).toString("utf8") };
}

/** Runs fn and returns the ConnectError code it fails with. */
export async function codeOf(fn: () => Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await fn();
  } catch (e) {
    const err = ConnectError.from(e);
    return { code: err.code, message: err.rawMessage };
  }
  throw new Error("expected the call to fail");
}

/** Every job ListJobs has, page by page (1,000 a page). */
export async function allJobs(client: JobClient): Promise<Job[]> {
  const jobs: Job[] = [];
  let pageToken = "";
  do {
    const page = await client.listJobs({ pageSize: 1000, pageToken });
    jobs.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return jobs;
}
