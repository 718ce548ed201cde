/**
 * GET /v1/jobs (0.2's listing, details, listing and limit) and GET /v1/jobs/search (the
 * jQuery DataTables feed), both over ListJobs: the caller's jobs (everyone's for a
 * superuser), newest first.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Job } from "../../gen/flux/restful/v1/job_pb.js";
import { JobService, type ListJobsRequestSchema } from "../../gen/flux/restful/v1/job_service_pb.js";
import { ORDER_COLUMNS } from "../backends/backend.js";
import type { ExactJsonValue } from "./exact-json.js";
import { parseBoolParam, parseIntParam, rejectUnknownParams, sendExactJson } from "./http-io.js";
import { decimalIdOf, toJobRecord } from "./job-record.js";
import { RestInputError } from "./legacy-errors.js";
import type { RestContext, RestRouteDef } from "./rest-context.js";

const PAGE_SIZE = 1000;

type ListInit = MessageInitShape<typeof ListJobsRequestSchema>;

/** Pages through ListJobs until `max` jobs are collected or none are left. */
async function listJobs(ctx: RestContext, request: ListInit, max: number): Promise<{ jobs: Job[]; totalSize: number }> {
  const jobs: Job[] = [];
  let pageToken = "";
  let totalSize = 0;
  do {
    const pageSize = Math.max(1, Math.min(PAGE_SIZE, max - jobs.length));
    const page = await ctx.rpc.unary(JobService.method.listJobs, { ...request, pageSize, pageToken }, ctx.call);
    jobs.push(...page.jobs);
    totalSize = page.totalSize;
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && jobs.length < max);
  return { jobs: jobs.slice(0, max), totalSize };
}

export const listJobsRoute: RestRouteDef = {
  method: "GET",
  pattern: /^\/v1\/jobs$/,
  async handle(ctx) {
    const q = ctx.query;
    // "detail" is what the 0.2 client sends (its server read only "details").
    rejectUnknownParams(q, ["details", "detail", "listing", "limit"]);
    const param = (name: string) => q.get(name) ?? undefined;
    const details = (parseBoolParam("details", param("details")) ?? false) || (parseBoolParam("detail", param("detail")) ?? false);
    const listing = parseBoolParam("listing", param("listing")) ?? false;
    const limit = parseIntParam("limit", param("limit"), 0);
    const { jobs } = limit === 0 ? { jobs: [] } : await listJobs(ctx, {}, limit ?? Number.POSITIVE_INFINITY);
    const records = jobs.map(toJobRecord);
    if (!details) return sendExactJson(ctx.res, 200, { jobs: records });
    if (listing) return sendExactJson(ctx.res, 200, records);
    // Keyed by the decimal id, in listing order (a Map keeps it; an object would not).
    sendExactJson(ctx.res, 200, new Map(jobs.map((job, i) => [decimalIdOf(job).toString(), records[i]!])));
  },
};

/** DataTables' order[0][column] and columns[N][data], as ListJobs' order_by; "" when not sortable. */
function orderBy(q: URLSearchParams): string {
  const column = q.get("order[0][column]");
  if (column === null || !/^\d+$/.test(column)) return "";
  const data = q.get(`columns[${column}][data]`) ?? "";
  if (!(ORDER_COLUMNS as readonly string[]).includes(data)) return "";
  return `${data} ${q.get("order[0][dir]") === "asc" ? "asc" : "desc"}`;
}

export const searchJobsRoute: RestRouteDef = {
  method: "GET",
  pattern: /^\/v1\/jobs\/search$/,
  async handle(ctx) {
    // Lenient about other parameters: DataTables sends columns[...], order[...] and "_".
    const q = ctx.query;
    const start = parseIntParam("start", q.get("start") ?? undefined, 0) ?? 0;
    const rawLength = parseIntParam("length", q.get("length") ?? undefined, -1);
    // DataTables asks for every row with length=-1.
    const length = rawLength === undefined || rawLength < 0 ? Number.POSITIVE_INFINITY : rawLength;
    const draw = parseIntParam("draw", q.get("draw") ?? undefined, 0);
    // "query" is what the 0.2 client sends (its server read only "search[value]" or "search").
    const search = (q.get("search[value]") ?? q.get("search") ?? q.get("query") ?? "").trim();
    if (search.length > 1024) throw new RestInputError("search: is too long (at most 1024 characters)");
    const order = orderBy(q);

    const matches = await listJobs(ctx, { search, orderBy: order }, start + length === 0 ? 1 : start + length);
    const recordsTotal = search === "" ? matches.totalSize : (await listJobs(ctx, {}, 1)).totalSize;
    const data: ExactJsonValue[] = matches.jobs.slice(start, start + length).map(toJobRecord);
    sendExactJson(ctx.res, 200, {
      data,
      draw: draw ?? 1,
      recordsTotal,
      // DataTables (which always sends draw) pages with the count of matches before paging.
      // Callers without draw (0.2 scripts and its client) were given the rows returned.
      recordsFiltered: draw !== undefined ? matches.totalSize : data.length,
    });
  },
};
