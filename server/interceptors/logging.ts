/**
 * One structured log line per RPC: procedure, code, duration, user, request id.
 * The only place that logs the cause of internal errors, since Connect sends the
 * client just "internal error". Never logs headers or messages (they hold secrets).
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { kCaller, kRequestId } from "../context.js";
import type { Logger } from "../logger.js";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function createLoggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const given = req.header.get("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.contextValues.set(kRequestId, requestId);
    const procedure = `${req.service.typeName}/${req.method.name}`;
    let logged = false;
    const log = (error?: unknown) => {
      if (logged) return;
      logged = true;
      const err = error === undefined ? undefined : ConnectError.from(error);
      const fields = {
        procedure,
        code: err ? codeToString(err.code) : "ok",
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        user: req.contextValues.get(kCaller)?.name,
        requestId,
      };
      if (err && (err.code === Code.Internal || err.code === Code.Unknown)) {
        logger.error("rpc failed", { ...fields, cause: err.cause ?? err });
      } else {
        logger.info("rpc", fields);
      }
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        log();
        return res;
      }
      const source = res.message;
      async function* logged_stream() {
        try {
          yield* source;
          // A follow ends quietly when the client leaves; the line should still say so.
          log(req.signal.aborted ? new ConnectError("client went away", Code.Canceled) : undefined);
        } catch (e) {
          log(e);
          throw e;
        } finally {
          // The client went away or the server stopped pulling: still one line.
          if (!logged) log(new ConnectError("stream ended early", Code.Canceled));
        }
      }
      return { ...res, message: logged_stream() };
    } catch (e) {
      log(e);
      throw e;
    }
  };
}
