/**
 * A request body as the AsyncIterable Connect reads, fed by the request's "data" events.
 * Node's own async iterator over a stream costs several promises and an end-of-stream
 * watcher per request, a sizeable share of a small unary call.
 */
import type { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";

/** Buffered bytes above which the request is paused until the reader catches up. */
const HIGH_WATER_BYTES = 64 * 1024;

export function readRequestBody(req: Readable): AsyncIterable<Uint8Array> {
  return new RequestBody(req);
}

/** A class rather than an object literal: tsx (esbuild keepNames) names a literal's arrow per call. */
class RequestBody implements AsyncIterable<Uint8Array> {
  constructor(private readonly req: Readable) {}
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return new BodyIterator(this.req);
  }
}

class BodyIterator implements AsyncIterator<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private failure: ConnectError | undefined;
  private wake: (() => void) | undefined;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onEnd: () => void;
  private readonly onError: (e: unknown) => void;
  private readonly onClose: () => void;

  constructor(private readonly req: Readable) {
    // Assigned here, not as field initializers: tsx (esbuild keepNames) would name each one
    // with Object.defineProperty per request.
    this.onData = (chunk) => this.push(chunk);
    this.onEnd = () => this.finish(undefined);
    this.onError = (e) => this.finish(e);
    this.onClose = () => {
      if (!this.ended) this.finish(new Error("the client closed the request"));
    };
    req.on("data", this.onData);
    req.on("end", this.onEnd);
    req.on("error", this.onError);
    req.on("close", this.onClose);
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.bufferedBytes -= chunk.byteLength;
        if (this.bufferedBytes < HIGH_WATER_BYTES && !this.ended && this.req.isPaused()) this.req.resume();
        return { done: false, value: chunk };
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The reader stopped early (a refused or oversized body): the rest drains unread. */
  async return(): Promise<IteratorResult<Uint8Array>> {
    this.detach();
    this.chunks.length = 0;
    this.ended = true;
    this.req.resume();
    return { done: true, value: undefined };
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.byteLength;
    if (this.bufferedBytes >= HIGH_WATER_BYTES) this.req.pause();
    this.notify();
  }

  /** The body is complete (no error) or broke off: a client hanging up, as connect-node says too. */
  private finish(error: unknown): void {
    if (error === undefined) this.ended = true;
    else this.failure ??= new ConnectError(`the request body ended early: ${error instanceof Error ? error.message : String(error)}`, Code.Aborted);
    this.detach();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private detach(): void {
    this.req.off("data", this.onData);
    this.req.off("end", this.onEnd);
    this.req.off("error", this.onError);
    this.req.off("close", this.onClose);
  }
}
