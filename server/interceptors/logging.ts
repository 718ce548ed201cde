/**
 * One structured log line per RPC: procedure, code, duration, user, request id.
 * The only place that logs the cause of internal errors, since Connect sends the
 * client just "internal error". Never logs headers or messages (they hold secrets).
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { kCaller, kRequestId } from "../context.js";
import type { Logger } from "../logger.js";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** One call's log line, written once. */
interface CallLog {
  readonly logger: Logger;
  readonly procedure: string;
  readonly started: number;
  readonly requestId: string;
  readonly values: ContextValues;
  logged: boolean;
}

// Module-level functions, not closures per call: under tsx (esbuild keepNames) every named
// closure costs an Object.defineProperty each time it is created.
function writeLog(call: CallLog, error?: unknown): void {
  if (call.logged) return;
  call.logged = true;
  const err = error === undefined ? undefined : ConnectError.from(error);
  const fields = {
    procedure: call.procedure,
    code: err ? codeToString(err.code) : "ok",
    durationMs: Math.round((performance.now() - call.started) * 10) / 10,
    user: call.values.get(kCaller)?.name,
    requestId: call.requestId,
  };
  if (err && (err.code === Code.Internal || err.code === Code.Unknown)) {
    call.logger.error("rpc failed", { ...fields, cause: err.cause ?? err });
  } else {
    call.logger.info("rpc", fields);
  }
}

async function* loggedStream<T>(call: CallLog, source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  try {
    yield* source;
    // A follow ends quietly when the client leaves; the line should still say so.
    writeLog(call, signal.aborted ? new ConnectError("client went away", Code.Canceled) : undefined);
  } catch (e) {
    writeLog(call, e);
    throw e;
  } finally {
    // The client went away or the server stopped pulling: still one line.
    if (!call.logged) writeLog(call, new ConnectError("stream ended early", Code.Canceled));
  }
}

export function createLoggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const given = req.header.get("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.contextValues.set(kRequestId, requestId);
    const call: CallLog = {
      logger,
      procedure: `${req.service.typeName}/${req.method.name}`,
      started,
      requestId,
      values: req.contextValues,
      logged: false,
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        writeLog(call);
        return res;
      }
      return { ...res, message: loggedStream(call, res.message, req.signal) };
    } catch (e) {
      writeLog(call, e);
      throw e;
    }
  };
}
