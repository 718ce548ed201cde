/**
 * Opens a local:// connection: connect the UNIX socket, then read the broker's one-byte
 * answer (usock.c: 0 accepted; anything else is an errno and the socket closes). The
 * client sends nothing before that byte; there is no version negotiation.
 */
import net from "node:net";
import { errnoName } from "./wire-constants.js";

/** The socket path of a local:// URI, or undefined for any other URI. */
export function localSocketPath(uri: string): string | undefined {
  if (!uri.startsWith("local://")) return undefined;
  const p = uri.slice("local://".length).replace(/\?.*$/, "");
  return p === "" ? undefined : p;
}

/** Why a connection could not be opened; `code` is the socket error code or "EHANDSHAKE". */
export class LocalConnectError extends Error {
  override name = "LocalConnectError" as const;
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface LocalConnection {
  socket: net.Socket;
  /** Bytes that arrived with the handshake byte (normally none). */
  leftover: Buffer;
}

/** Connects and completes the handshake within timeoutMs. */
export function connectLocal(socketPath: string, timeoutMs: number): Promise<LocalConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: socketPath });
    let settled = false;
    const finish = (error: LocalConnectError | undefined, leftover?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve({ socket, leftover: leftover ?? Buffer.alloc(0) });
      }
    };
    const onData = (chunk: Buffer) => {
      socket.pause();
      const byte = chunk[0]!;
      if (byte !== 0) {
        finish(new LocalConnectError(`the flux broker at "${socketPath}" refused the connection (${errnoName(byte)})`, errnoName(byte)));
        return;
      }
      finish(undefined, chunk.subarray(1));
    };
    const onError = (e: NodeJS.ErrnoException) => {
      finish(new LocalConnectError(`cannot connect to the flux broker at "${socketPath}" (${e.code ?? e.message})`, e.code ?? "EUNKNOWN", { cause: e }));
    };
    const onClose = () => {
      finish(new LocalConnectError(`the flux broker at "${socketPath}" closed the connection during the handshake`, "ECONNRESET"));
    };
    const timer = setTimeout(() => {
      finish(new LocalConnectError(`the flux broker at "${socketPath}" did not complete the handshake in ${timeoutMs} ms`, "ETIMEDOUT"));
    }, timeoutMs);
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
  });
}
