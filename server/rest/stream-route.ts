/**
 * GET /v1/jobs/{id}/output/stream: follows a job's output until it ends, over
 * StreamJobOutput (so it needs auth when auth is on, unlike 0.2). The format follows Accept:
 * - default: text/plain, one output line per line, as 0.2 streamed it;
 * - application/x-ndjson: {"result": {"line"|"status"|"end": ...}} per line, {"error": ...} last on failure;
 * - text/event-stream: SSE `data: {"line", "stream", "rank"}`, `event: status|end|error`, and `: ping` heartbeats.
 * Errors before any output get a real status (404, 401...); after it they end the stream
 * (text: the connection is cut so the client sees an incomplete transfer). A client that
 * disconnects aborts the call, which stops following the job.
 */
import { once } from "node:events";
import type http from "node:http";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import type { StreamJobOutputResponse } from "../../gen/flux/restful/v1/job_service_pb.js";
import { headerOf, rejectUnknownParams } from "./http-io.js";
import { createLineAssembler, type OutputLine } from "./output-lines.js";
import type { RestContext, RestRouteDef } from "./rest-context.js";

export type StreamFormat = "text" | "ndjson" | "sse";

/** Headers go out once the first item arrives, or after this long without one. */
const HEADERS_AFTER_MS = 250;
const SSE_HEARTBEAT_MS = 15_000;

const CONTENT_TYPES: Record<StreamFormat, string> = {
  text: "text/plain; charset=utf-8",
  ndjson: "application/x-ndjson",
  sse: "text/event-stream; charset=utf-8",
};

export function streamFormatOf(accept: string | undefined): StreamFormat {
  const a = (accept ?? "").toLowerCase();
  if (a.includes("application/x-ndjson")) return "ndjson";
  if (a.includes("text/event-stream")) return "sse";
  return "text";
}

type Event = { kind: "line"; line: OutputLine } | { kind: "status"; text: string } | { kind: "end"; exitCode: number; truncated: boolean };

function render(format: StreamFormat, e: Event): string {
  if (format === "text") return e.kind === "line" ? e.line.text : "";
  const payload =
    e.kind === "line"
      ? { line: e.line.text, stream: e.line.stream, rank: e.line.rank }
      : e.kind === "status"
        ? { status: e.text }
        : { exit_code: e.exitCode, truncated: e.truncated };
  if (format === "ndjson") return `${JSON.stringify({ result: e.kind === "end" ? { end: payload } : payload })}\n`;
  const event = e.kind === "line" ? "" : `event: ${e.kind}\n`;
  return `${event}data: ${JSON.stringify(payload)}\n\n`;
}

function renderError(format: StreamFormat, err: ConnectError): string {
  const body = { code: codeToString(err.code), message: err.rawMessage };
  return format === "ndjson" ? `${JSON.stringify({ error: body })}\n` : `event: error\ndata: ${JSON.stringify(body)}\n\n`;
}

async function write(ctx: RestContext, text: string): Promise<void> {
  if (text === "" || ctx.res.destroyed) return;
  if (!ctx.res.write(text)) await once(ctx.res, "drain", { signal: ctx.call.signal });
}

function toEvents(msg: StreamJobOutputResponse, lines: ReturnType<typeof createLineAssembler>): Event[] {
  const item = msg.item;
  if (item.case === "chunk") return lines.push(item.value).map((line) => ({ kind: "line", line }));
  if (item.case === "status") return [{ kind: "status", text: item.value }];
  if (item.case === "end") {
    const rest: Event[] = lines.flush().map((line) => ({ kind: "line", line }));
    return [...rest, { kind: "end", exitCode: item.value.exitCode, truncated: item.value.truncated }];
  }
  return [];
}

export const streamOutputRoute: RestRouteDef = {
  method: "GET",
  pattern: /^\/v1\/jobs\/([^/]+)\/output\/stream$/,
  async handle(ctx) {
    rejectUnknownParams(ctx.query, []);
    const format = streamFormatOf(headerOf(ctx.req, "accept"));
    if (ctx.req.method === "HEAD") {
      // The same checks (auth, job, owner) without following the job.
      await ctx.rpc.unary(JobService.method.getJob, { id: ctx.params[0]! }, ctx.call);
      (ctx.res as http.ServerResponse).writeHead(200, { "content-type": CONTENT_TYPES[format], "cache-control": "no-cache" });
      ctx.res.end();
      return;
    }
    const messages = await ctx.rpc.stream(JobService.method.streamJobOutput, { id: ctx.params[0]! }, ctx.call);
    const it = messages[Symbol.asyncIterator]();
    let next = it.next();
    // An error before the first message (unknown job, no credentials) rejects here, before any header.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      next.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), HEADERS_AFTER_MS))),
    ]);
    clearTimeout(timer);

    (ctx.res as http.ServerResponse).writeHead(200, {
      "content-type": CONTENT_TYPES[format],
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    (ctx.res as http.ServerResponse).flushHeaders?.();
    const heartbeat = format === "sse" ? setInterval(() => void write(ctx, ": ping\n\n").catch(() => {}), SSE_HEARTBEAT_MS) : undefined;
    const lines = createLineAssembler();
    let done = false;
    try {
      for (let r = await next; !r.done; r = await next) {
        for (const event of toEvents(r.value, lines)) await write(ctx, render(format, event));
        next = it.next();
      }
      done = true;
      for (const line of lines.flush()) await write(ctx, render(format, { kind: "line", line }));
      ctx.res.end();
    } catch (e) {
      if (ctx.call.signal.aborted) return; // the client went away
      ctx.logger.debug("output stream ended with an error", { cause: e });
      if (format === "text") ctx.res.destroy();
      else {
        await write(ctx, renderError(format, ConnectError.from(e))).catch(() => {});
        ctx.res.end();
      }
    } finally {
      clearInterval(heartbeat);
      if (!done) await it.return?.().catch(() => {});
    }
  },
};
