/**
 * POST /v1/jobs/submit: 0.2's submit, answered by JobService.SubmitJob. The launcher
 * (is_launcher) is an ordinary tracked job with its own id; a command that is not an
 * allowed launcher is refused by the service with 400.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { parseJobId } from "../backends/jobid.js";
import { sendExactJson } from "./http-io.js";
import { RestInputError } from "./legacy-errors.js";
import type { RestRouteDef } from "./rest-context.js";
import { SUBMIT_FIELD_ALIASES, toSubmitRequest } from "./submit-request.js";

/** Names the service's fields as the caller sent them, e.g. "time_limit_seconds: ..." -> "runtime: ...". */
function withCallerFieldNames(e: unknown): unknown {
  if (!(e instanceof ConnectError) || e.code !== Code.InvalidArgument) return e;
  const m = /^([a-z_]+)(.*)$/s.exec(e.rawMessage);
  const alias = m ? SUBMIT_FIELD_ALIASES[m[1]!] : undefined;
  return alias === undefined ? e : new ConnectError(`${alias}${m![2]}`, e.code, e.metadata, undefined, e);
}

export const submitJobRoute: RestRouteDef = {
  method: "POST",
  pattern: /^\/v1\/jobs\/submit$/,
  async handle(ctx) {
    const request = toSubmitRequest(ctx.query, await ctx.body());
    if (request.command === undefined || request.command.length === 0) {
      throw new RestInputError("command: is required", 400, "A 'command' is minimally required.");
    }
    let id: string;
    try {
      ({ id } = await ctx.rpc.unary(JobService.method.submitJob, request, ctx.call));
    } catch (e) {
      throw withCallerFieldNames(e);
    }
    sendExactJson(ctx.res, 200, { Message: "Job submit.", id: parseJobId(id) });
  },
  errorShape: () => ({ invalidMessage: "Invalid submit request" }),
};
