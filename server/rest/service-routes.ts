/**
 * GET /v1/nodes (0.2: the host names of the nodes that are up) and POST /v1/service/stop
 * (AdminService.StopService: superusers only; with auth off the caller is the server's
 * user, a superuser).
 */
import { NodeState } from "../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { AdminService } from "../../gen/flux/restful/v1/admin_service_pb.js";
import { rejectUnknownParams, sendExactJson } from "./http-io.js";
import type { RestRouteDef } from "./rest-context.js";

export const listNodesRoute: RestRouteDef = {
  method: "GET",
  pattern: /^\/v1\/nodes$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    const { nodes } = await ctx.rpc.unary(JobService.method.listNodes, {}, ctx.call);
    const up = [...nodes].sort((a, b) => a.rank - b.rank).filter((n) => n.state === NodeState.UP);
    sendExactJson(ctx.res, 200, { nodes: [...new Set(up.map((n) => n.hostname))] });
  },
};

export const stopServiceRoute: RestRouteDef = {
  method: "POST",
  pattern: /^\/v1\/service\/stop$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    await ctx.rpc.unary(AdminService.method.stopService, {}, ctx.call);
    sendExactJson(ctx.res, 200, null);
  },
};
