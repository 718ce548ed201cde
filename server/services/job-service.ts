/**
 * JobService: validate, check ownership, call the backend, map to messages.
 * It knows only the JobBackend interface, never a concrete backend.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { StreamJobOutputResponseSchema } from "../../gen/flux/restful/v1/job_service_pb.js";
import { JobResultBit, JobStateBit, ORDER_COLUMNS, type JobBackend, type JobOwner, type JobRecord, type OrderColumn } from "../backends/backend.js";
import { formatJobId, isInvalidJobIdError, parseJobId } from "../backends/jobid.js";
import { kCaller, type Caller } from "../context.js";
import { invalidField, mapErrors, quoted, toConnectError } from "./error-mapping.js";
import { toJob, toJobEvent, toNode, toOutputChunk } from "./job-mapper.js";
import { validateSubmit, type SubmitLimits } from "./submit-validation.js";

export interface JobServiceOptions {
  backend: JobBackend;
  limits: SubmitLimits;
  /** The caller when no auth layer set one (auth off). */
  anonymousCaller: Caller;
  /** Who a caller's jobs run as (multi-user mode looks up the Linux account). */
  ownerFor(caller: Caller): Promise<JobOwner>;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_OUTPUT_LIMIT = 1000;
const MAX_OUTPUT_LIMIT = 10_000;

/** Parses a job id in any RFC 19 encoding, or throws InvalidArgument. */
export function parseIdField(text: string, field = "id"): bigint {
  if (text === "") throw invalidField(field, "is required");
  try {
    return parseJobId(text);
  } catch (e) {
    if (isInvalidJobIdError(e)) throw invalidField(field, e.message);
    throw e;
  }
}

/** A mask of Flux's bits, or InvalidArgument naming the unknown ones (a typo must not silently match nothing). */
function checkMask(field: string, mask: number, bits: Readonly<Record<string, number>>): void {
  const known = Object.values(bits).reduce((a, b) => a | b, 0);
  const unknown = (mask & ~known) >>> 0;
  if (unknown !== 0) {
    const names = Object.entries(bits).map(([name, bit]) => `${name}=${bit}`).join(", ");
    throw invalidField(field, `has unknown bits 0x${unknown.toString(16)} (known: ${names}) (got ${mask})`);
  }
}

function parseOrderBy(text: string): { column: OrderColumn; descending: boolean } {
  const [column = "t_submit", direction = "desc", ...rest] = text.trim().split(/\s+/).filter(Boolean);
  if (!(ORDER_COLUMNS as readonly string[]).includes(column) || !["asc", "desc"].includes(direction) || rest.length) {
    throw invalidField("order_by", `must be one of ${ORDER_COLUMNS.join(", ")}, optionally followed by asc or desc (got "${quoted(text)}")`);
  }
  return { column: column as OrderColumn, descending: direction === "desc" };
}

export function createJobService(options: JobServiceOptions): ServiceImpl<typeof JobService> {
  const { backend } = options;
  const callerOf = (ctx: HandlerContext): Caller => ctx.values.get(kCaller) ?? options.anonymousCaller;

  /** Loads a job the caller may see: PermissionDenied for someone else's job. */
  async function ownedJob(idText: string, ctx: HandlerContext): Promise<JobRecord> {
    const id = parseIdField(idText);
    const job = await mapErrors(() => backend.get(id));
    const caller = callerOf(ctx);
    if (!caller.superuser && job.owner !== caller.name) {
      throw new ConnectError(`job "${idText}" belongs to another user`, Code.PermissionDenied);
    }
    return job;
  }

  return {
    async submitJob(req, ctx) {
      const request = validateSubmit(req, options.limits);
      const owner = await options.ownerFor(callerOf(ctx));
      const id = await mapErrors(() => backend.submit(request, owner));
      return { id: formatJobId(id) };
    },

    async getJob(req, ctx) {
      return { job: toJob(await ownedJob(req.id, ctx)) };
    },

    async listJobs(req, ctx) {
      const caller = callerOf(ctx);
      if (req.user !== "" && req.user !== caller.name && !caller.superuser) {
        throw new ConnectError(`only superusers may list other users' jobs`, Code.PermissionDenied);
      }
      if (req.pageSize < 0 || req.pageSize > MAX_PAGE_SIZE) {
        throw invalidField("page_size", `must be from 0 to ${MAX_PAGE_SIZE} (got ${req.pageSize})`);
      }
      if (!Number.isFinite(req.since) || req.since < 0) throw invalidField("since", `must be 0 or more (got ${req.since})`);
      // Filters longer than anything stored match nothing; a huge search pattern only costs a scan.
      for (const [field, value, max] of [["search", req.search, 1024], ["name", req.name, 1024], ["user", req.user, 256]] as const) {
        if (value.length > max) throw invalidField(field, `is too long (${value.length} characters, at most ${max})`);
      }
      checkMask("state_mask", req.stateMask, JobStateBit);
      checkMask("result_mask", req.resultMask, JobResultBit);
      const result = await mapErrors(() =>
        backend.list({
          owner: req.user !== "" ? req.user : caller.superuser ? undefined : caller.name,
          stateMask: req.stateMask || undefined,
          resultMask: req.resultMask || undefined,
          name: req.name || undefined,
          since: req.since || undefined,
          search: req.search || undefined,
          orderBy: parseOrderBy(req.orderBy),
          pageSize: req.pageSize || DEFAULT_PAGE_SIZE,
          pageToken: req.pageToken,
        }),
      );
      return { jobs: result.jobs.map(toJob), nextPageToken: result.nextPageToken, totalSize: result.totalSize };
    },

    async cancelJob(req, ctx) {
      const job = await ownedJob(req.id, ctx);
      if (req.message.length > 4096) throw invalidField("message", "is too long (at most 4096 characters)");
      await mapErrors(() => backend.cancel(job.id, req.message));
      return {};
    },

    async getJobOutput(req, ctx) {
      const job = await ownedJob(req.id, ctx);
      if (req.limit < 0 || req.limit > MAX_OUTPUT_LIMIT) {
        throw invalidField("limit", `must be from 0 to ${MAX_OUTPUT_LIMIT} (got ${req.limit})`);
      }
      const offset = req.offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(req.offset);
      const page = await mapErrors(() => backend.output(job.id, offset, req.limit || DEFAULT_OUTPUT_LIMIT));
      return {
        chunks: page.chunks.map(toOutputChunk),
        nextOffset: BigInt(page.nextOffset),
        complete: page.complete,
        truncated: page.truncated,
      };
    },

    async *streamJobOutput(req, ctx) {
      const job = await ownedJob(req.id, ctx);
      const offset = req.offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(req.offset);
      try {
        for await (const item of backend.followOutput(job.id, offset, ctx.signal)) {
          if (item.kind === "chunk") {
            yield create(StreamJobOutputResponseSchema, { item: { case: "chunk", value: toOutputChunk(item.chunk) } });
          } else if (item.kind === "status") {
            yield create(StreamJobOutputResponseSchema, { item: { case: "status", value: item.text } });
          } else {
            yield create(StreamJobOutputResponseSchema, {
              item: { case: "end", value: { exitCode: item.exitCode, truncated: item.truncated } },
            });
          }
        }
      } catch (e) {
        throw toConnectError(e);
      }
    },

    async *watchJobEvents(req, ctx) {
      const job = await ownedJob(req.id, ctx);
      try {
        for await (const event of backend.followEvents(job.id, ctx.signal)) yield { event: toJobEvent(event) };
      } catch (e) {
        throw toConnectError(e);
      }
    },

    async listNodes() {
      const nodes = await mapErrors(() => backend.nodes());
      return { nodes: nodes.map(toNode) };
    },
  };
}
