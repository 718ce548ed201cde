/**
 * The server's one connection to its broker, kept open: unary RPCs with timeouts, any
 * number in flight (capped), streaming RPCs with backpressure and cancel, and reconnect
 * with backoff when the broker goes away (a restart is a plain ECONNRESET). Calls waiting
 * when the connection drops fail with BackendUnavailableError; calls made while the broker
 * is down fail the same way at once (or after one bounded connect attempt), never hang.
 */
import type { Logger } from "../../../logger.js";
import { BackendUnavailableError } from "../../backend-errors.js";
import type { ExactJson } from "../exact-json.js";
import { createSemaphore } from "../semaphore.js";
import { connectLocal } from "./connect-local.js";
import { createFluxConnection, type FluxConnection } from "./flux-connection.js";
import type { FluxMessage } from "./message-codec.js";
import { decodeErrorText, decodeJsonPayload, encodeJsonPayload } from "./payload-json.js";
import { FluxRpcError } from "./rpc-error.js";
import { Errno, MsgFlag } from "./wire-constants.js";

export type JsonObject = { [key: string]: ExactJson };

export interface RpcOptions {
  /** Broker rank; defaults to any. */
  nodeid?: number;
  /** Defaults to the client's requestTimeoutMs. */
  timeoutMs?: number;
  /** Credentials to stamp (an owner connection only); see flux-wire.md "credential pass-through". */
  userid?: number;
  rolemask?: number;
}

export interface StreamOptions {
  nodeid?: number;
  /** The service's cancel topic (e.g. job-info.eventlog-watch-cancel), sent with {"matchtag": N} on abort or early exit. */
  cancelTopic?: string;
  /** Ends the stream quietly (after sending the cancel). */
  signal?: AbortSignal;
  userid?: number;
  rolemask?: number;
}

/** Runs on each new connection before any call uses it; throwing closes it and fails the attempt. */
export type ConnectHook = (rpc: (topic: string, payload?: Record<string, unknown>) => Promise<JsonObject | undefined>) => Promise<void>;

export interface BrokerClientOptions {
  /** The broker's local:// socket path. */
  socketPath: string;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Connect + handshake + onConnect deadline. Defaults to 5000. */
  connectTimeoutMs?: number;
  /** Deadline of one unary RPC. Defaults to 30000. */
  requestTimeoutMs?: number;
  /** First wait before reconnecting after a failure; doubles up to reconnectMaxMs. Defaults to 100. */
  reconnectInitialMs?: number;
  /** Defaults to 2000. */
  reconnectMaxMs?: number;
  /** Most unary RPCs in flight at once; the rest wait their turn. Defaults to 1024. */
  maxInFlight?: number;
  /**
   * Responses one stream may hold for a consumer that does not read them; past this the
   * stream is cancelled and fails. The socket is never paused for one stream: that would
   * stall every other call on the connection. Defaults to 10000.
   */
  streamMaxBuffered?: number;
  /** Largest message accepted. Defaults to 256 MiB. */
  maxFrameBytes?: number;
  onConnect?: ConnectHook;
}

export type BrokerClientState = "idle" | "connecting" | "open" | "closed";

export interface BrokerClient {
  /** Connects now (if not connected) so startup can tell whether the broker answers. */
  connect(): Promise<void>;
  /** A unary RPC; resolves with the response payload (undefined when it has none). Errors: FluxRpcError, BackendUnavailableError. */
  rpc(topic: string, payload?: Record<string, unknown>, options?: RpcOptions): Promise<JsonObject | undefined>;
  /** A streaming RPC; yields each response payload, ends at ENODATA (or on abort). */
  stream(topic: string, payload: Record<string, unknown>, options?: StreamOptions): AsyncGenerator<JsonObject>;
  readonly state: BrokerClientState;
  /** Requests waiting for a final response on the current connection. */
  readonly inFlight: number;
  /** Closes the connection for good; waiting calls fail with BackendUnavailableError. */
  close(): Promise<void>;
}

const isFinal = (msg: FluxMessage) => msg.aux1 !== 0 || (msg.flags & MsgFlag.STREAMING) === 0;

export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const logger = options.logger;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const initialBackoffMs = options.reconnectInitialMs ?? 100;
  const maxBackoffMs = options.reconnectMaxMs ?? 2000;
  const maxBuffered = options.streamMaxBuffered ?? 10_000;
  const slots = createSemaphore(options.maxInFlight ?? 1024);

  let current: FluxConnection | undefined;
  let connecting: Promise<FluxConnection> | undefined;
  let closed = false;
  let everConnected = false;
  let backoffMs = initialBackoffMs;
  let lastFailure: { error: Error; retryAt: number } | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const unavailable = (message: string, cause?: unknown) => new BackendUnavailableError(message, { cause });

  function rawRpc(conn: FluxConnection, topic: string, payload: Record<string, unknown> | undefined, opts: RpcOptions): Promise<JsonObject | undefined> {
    const timeoutMs = opts.timeoutMs ?? requestTimeoutMs;
    return new Promise((resolve, reject) => {
      let tag = 0;
      const timer = setTimeout(() => {
        conn.abandon(tag);
        reject(unavailable(`the flux broker did not answer "${topic}" within ${timeoutMs} ms`));
      }, timeoutMs);
      try {
        tag = conn.send(topic, payload === undefined ? undefined : encodeJsonPayload(payload), opts, {
          onResponse(msg) {
            clearTimeout(timer);
            if (msg.aux1 !== 0) {
              reject(new FluxRpcError(topic, msg.aux1, decodeErrorText(msg.payload)));
              return;
            }
            try {
              resolve(msg.payload === undefined ? undefined : decodeJsonPayload(msg.payload));
            } catch (e) {
              reject(e);
            }
          },
          onClose(error) {
            clearTimeout(timer);
            reject(unavailable(`the flux broker connection was lost during "${topic}"`, error));
          },
        });
      } catch (e) {
        clearTimeout(timer);
        reject(unavailable(`the flux broker connection was lost before "${topic}"`, e));
      }
    });
  }

  /** Waits for the socket to take more bytes, but not past the call's deadline (a broker that stopped reading). */
  async function writable(conn: FluxConnection, timeoutMs: number, topic: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.whenWritable(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(unavailable(`the flux broker did not take "${topic}" within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  function scheduleRetry() {
    if (closed || !everConnected || retryTimer !== undefined || lastFailure === undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      getConnection().catch(() => {});
    }, Math.max(0, lastFailure.retryAt - Date.now()));
    retryTimer.unref();
  }

  async function attempt(): Promise<FluxConnection> {
    const { socket, leftover } = await connectLocal(options.socketPath, connectTimeoutMs);
    const conn = createFluxConnection({
      socket,
      leftover,
      maxFrameBytes: options.maxFrameBytes,
      onStray: (msg) => logger.debug("flux message matching no request", { topic: msg.topic, type: msg.type, matchtag: msg.aux2 }),
    });
    conn.onClose((error) => {
      if (current !== conn) return;
      current = undefined;
      if (closed) return;
      logger.warn("flux broker connection lost; reconnecting", { socketPath: options.socketPath, error: error.message });
      lastFailure = { error, retryAt: Date.now() + backoffMs };
      scheduleRetry();
    });
    try {
      if (options.onConnect) await options.onConnect((topic, payload) => rawRpc(conn, topic, payload, { timeoutMs: connectTimeoutMs }));
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }

  function getConnection(): Promise<FluxConnection> {
    if (closed) return Promise.reject(unavailable("the flux broker client is closed"));
    if (current && !current.isClosed) return Promise.resolve(current);
    if (connecting) return connecting;
    if (lastFailure && Date.now() < lastFailure.retryAt) {
      scheduleRetry();
      return Promise.reject(unavailable(`the flux broker is not reachable: ${lastFailure.error.message}`, lastFailure.error));
    }
    connecting = attempt()
      .then((conn) => {
        if (closed) {
          conn.close();
          throw unavailable("the flux broker client is closed");
        }
        if (lastFailure !== undefined || !everConnected) logger.info("flux broker connected", { socketPath: options.socketPath });
        current = conn;
        everConnected = true;
        lastFailure = undefined;
        backoffMs = initialBackoffMs;
        return conn;
      })
      .catch((e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        lastFailure = { error, retryAt: Date.now() + backoffMs };
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
        scheduleRetry();
        throw e instanceof BackendUnavailableError ? e : unavailable(`the flux broker is not reachable: ${error.message}`, error);
      })
      .finally(() => {
        connecting = undefined;
      });
    return connecting;
  }

  async function* stream(topic: string, payload: Record<string, unknown>, opts: StreamOptions = {}): AsyncGenerator<JsonObject> {
    const signal = opts.signal;
    if (signal?.aborted) return;
    const conn = await getConnection();
    const queue: FluxMessage[] = [];
    let failure: Error | undefined; // thrown once the queue is drained
    let connectionLost = false;
    let finalReceived = false;
    let stopped = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    /** Stops following: cancels the broker side unless it already ended. */
    const stop = () => {
      if (stopped) return;
      stopped = true;
      if (!finalReceived && !connectionLost) {
        // The service ends the stream with ENODATA; that final answer frees the tag (to no one).
        if (opts.cancelTopic !== undefined && !conn.isClosed) conn.send(opts.cancelTopic, encodeJsonPayload({ matchtag: tag }), { noResponse: true });
        conn.abandon(tag);
      }
      notify();
    };
    const tag = conn.send(topic, encodeJsonPayload(payload), { nodeid: opts.nodeid, streaming: true, userid: opts.userid, rolemask: opts.rolemask }, {
      onResponse(msg) {
        if (isFinal(msg)) finalReceived = true;
        if (stopped) return;
        if (queue.length >= maxBuffered) {
          // What is buffered is still delivered; then the consumer learns why the rest is missing.
          failure = new Error(`the consumer of "${topic}" fell ${maxBuffered} responses behind; the stream was stopped`);
          stop();
          return;
        }
        queue.push(msg);
        notify();
      },
      onClose(error) {
        connectionLost = true;
        failure = unavailable(`the flux broker connection was lost during "${topic}"`, error);
        notify();
      },
    });
    signal?.addEventListener("abort", stop, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) return;
        const msg = queue.shift();
        if (msg === undefined) {
          if (failure) throw failure;
          if (stopped) return;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if (msg.aux1 !== 0) {
          if (msg.aux1 === Errno.ENODATA) return;
          throw new FluxRpcError(topic, msg.aux1, decodeErrorText(msg.payload));
        }
        if (msg.payload !== undefined) yield decodeJsonPayload(msg.payload);
        if (isFinal(msg)) return;
      }
    } finally {
      signal?.removeEventListener("abort", stop);
      stop();
    }
  }

  return {
    async connect() {
      await getConnection();
    },
    async rpc(topic, payload, opts = {}) {
      const release = await slots.acquire();
      try {
        const conn = await getConnection();
        const timeoutMs = opts.timeoutMs ?? requestTimeoutMs;
        const started = Date.now();
        await writable(conn, timeoutMs, topic);
        return await rawRpc(conn, topic, payload, { ...opts, timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) });
      } finally {
        release();
      }
    },
    stream,
    get state(): BrokerClientState {
      if (closed) return "closed";
      if (current && !current.isClosed) return "open";
      return connecting ? "connecting" : "idle";
    },
    get inFlight() {
      return current?.inFlight ?? 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      const conn = current ?? (await connecting?.catch(() => undefined));
      current = undefined;
      conn?.close(unavailable("the flux broker client is closed"));
    },
  };
}
