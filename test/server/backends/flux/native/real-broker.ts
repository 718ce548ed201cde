/**
 * Whether a real broker is reachable for the native transport's real-Flux tests:
 * FLUX_URI names a local:// socket whose broker completes the handshake. Otherwise the
 * reason to skip, which the tests print.
 */
import { connectLocal, localSocketPath } from "../../../../../server/backends/flux/native/index.js";

export async function realBroker(): Promise<{ uri: string } | { skip: string }> {
  const uri = process.env.FLUX_URI;
  if (!uri) return { skip: "FLUX_URI is not set" };
  const socketPath = localSocketPath(uri);
  if (!socketPath) return { skip: `FLUX_URI "${uri}" is not local://` };
  try {
    (await connectLocal(socketPath, 2000)).socket.destroy();
    return { uri };
  } catch (e) {
    return { skip: `no broker completes the handshake at ${uri}: ${(e as Error).message}` };
  }
}
