/**
 * A Transport that does the token dance around another one: it sends the current access
 * token, and when the server answers Unauthenticated (no token, or an expired one) it
 * exchanges the credentials for a new token once and repeats the call. That repeat is safe
 * even for SubmitJob, because an Unauthenticated call was refused before anything ran. No
 * other error is ever retried: after a timeout or a lost connection the outcome of a submit is
 * unknown, and repeating it could run the job twice.
 */
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type StreamResponse, type Transport, type UnaryResponse } from "@connectrpc/connect";
import { AuthService } from "../../gen/flux/restful/v1/auth_service_pb.js";
import type { TokenSource } from "./token-source.js";

function isUnauthenticated(e: unknown): boolean {
  return e instanceof ConnectError && e.code === Code.Unauthenticated;
}

function withToken(header: HeadersInit | undefined, token: string | undefined): Headers {
  const h = new Headers(header);
  if (token !== undefined) h.set("Authorization", `Bearer ${token}`);
  return h;
}

async function collect<T>(input: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of input) out.push(m);
  return out;
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Wraps `inner` so that every call carries the token of `tokens` and survives one Unauthenticated. */
export function createAuthTransport(inner: Transport, tokens: TokenSource): Transport {
  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      // CreateToken is the exchange itself: a refusal there is the answer, not a cue to exchange.
      if (method.parent.typeName === AuthService.typeName && method.name === AuthService.method.createToken.name) {
        return inner.unary(method, signal, timeoutMs, header, input, contextValues);
      }
      const sent = await tokens.current();
      try {
        return await inner.unary(method, signal, timeoutMs, withToken(header, sent), input, contextValues);
      } catch (e) {
        if (!isUnauthenticated(e) || !tokens.canRenew) throw e;
        const fresh = await tokens.renew(sent);
        return inner.unary(method, signal, timeoutMs, withToken(header, fresh), input, contextValues);
      }
    },

    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ): Promise<StreamResponse<I, O>> {
      const sent = await tokens.current();
      // A call sent with a client stream cannot be repeated without buffering it whole;
      // only server-streaming calls (one request message) get the retry.
      if (method.methodKind !== "server_streaming" || !tokens.canRenew) {
        return inner.stream(method, signal, timeoutMs, withToken(header, sent), input, contextValues);
      }
      const messages = await collect(input);
      const call = (token: string | undefined) =>
        inner.stream(method, signal, timeoutMs, withToken(header, token), iterate(messages), contextValues);

      let first: StreamResponse<I, O>;
      try {
        first = await call(sent);
      } catch (e) {
        if (!isUnauthenticated(e)) throw e;
        return call(await tokens.renew(sent));
      }
      // Depending on the protocol, a refusal shows up when the call starts or as the first
      // thing read from the stream; it is repeated only while nothing has been received yet.
      const trailer = new Headers();
      async function* messagesWithRetry(): AsyncGenerator<MessageShape<O>> {
        let source = first;
        const it = first.message[Symbol.asyncIterator]();
        try {
          let head: IteratorResult<MessageShape<O>>;
          try {
            head = await it.next();
          } catch (e) {
            if (!isUnauthenticated(e)) throw e;
            source = await call(await tokens.renew(sent));
            yield* source.message;
            return;
          }
          while (!head.done) {
            yield head.value;
            head = await it.next();
          }
        } finally {
          await it.return?.();
          source.trailer.forEach((v, k) => trailer.set(k, v));
        }
      }
      return { ...first, trailer, message: messagesWithRetry() };
    },
  };
}
