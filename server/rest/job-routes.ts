/**
 * GET /v1/jobs/{id}, POST /v1/jobs/{id}/cancel and GET /v1/jobs/{id}/output: one job,
 * by an id in any RFC 19 encoding. Unknown job: 404 with a Message (0.2 answered 200
 * null); malformed id: 400. Output is what exists now (0.2 blocked until the job ended).
 */
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { parseJobId } from "../backends/jobid.js";
import type { ExactJsonValue } from "./exact-json.js";
import { rejectUnknownParams, sendExactJson } from "./http-io.js";
import { toJobRecord } from "./job-record.js";
import { createLineAssembler } from "./output-lines.js";
import type { RestContext, RestRouteDef } from "./rest-context.js";

/** Output pages are read until the snapshot is complete; this many chunks per call. */
const OUTPUT_PAGE_CHUNKS = 10_000;

/** The id as an exact integer when it parses, else as sent (for error bodies). */
export function idForBody(text: string): ExactJsonValue {
  try {
    return parseJobId(text);
  } catch {
    return text;
  }
}

export const getJobRoute: RestRouteDef = {
  method: "GET",
  pattern: /^\/v1\/jobs\/([^/]+)$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    const { job } = await ctx.rpc.unary(JobService.method.getJob, { id: ctx.params[0]! }, ctx.call);
    if (!job) throw new Error("GetJob answered without a job");
    sendExactJson(ctx.res, 200, toJobRecord(job));
  },
};

export const cancelJobRoute: RestRouteDef = {
  method: "POST",
  pattern: /^\/v1\/jobs\/([^/]+)\/cancel$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    await ctx.rpc.unary(JobService.method.cancelJob, { id: ctx.params[0]! }, ctx.call);
    sendExactJson(ctx.res, 200, { Message: "Job is requested to cancel.", id: parseJobId(ctx.params[0]!) });
  },
  errorShape: (ctx: RestContext) => ({ messagePrefix: "Job cannot be cancelled: ", extra: { id: idForBody(ctx.params[0]!) } }),
};

export const jobOutputRoute: RestRouteDef = {
  method: "GET",
  pattern: /^\/v1\/jobs\/([^/]+)\/output$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    const id = ctx.params[0]!;
    const lines = createLineAssembler();
    const out: string[] = [];
    let offset = 0n;
    for (;;) {
      const page = await ctx.rpc.unary(JobService.method.getJobOutput, { id, offset, limit: OUTPUT_PAGE_CHUNKS }, ctx.call);
      for (const chunk of page.chunks) for (const line of lines.push(chunk)) out.push(line.text);
      if (page.complete || page.chunks.length === 0 || page.nextOffset === offset) break;
      offset = page.nextOffset;
    }
    for (const line of lines.flush()) out.push(line.text);
    // 0.2 scripts look for this Message while output is not there yet; Output is always present.
    sendExactJson(ctx.res, 200, out.length > 0 ? { Output: out } : { Output: [], Message: "The output does not exist yet." });
  },
};
