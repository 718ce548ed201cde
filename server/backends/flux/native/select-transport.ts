/**
 * Chooses how the flux backend talks to Flux (FLUX_RESTFUL_FLUX_TRANSPORT):
 * - "cli": one `flux` command per call (flux-cli.ts);
 * - "native": the broker's local:// socket (native-calls.ts); startup fails, saying why,
 *   when it cannot be used;
 * - "auto" (the default): native when FLUX_URI is a local:// socket whose broker completes
 *   the handshake, runs a supported version and is owned by the server's user (only the
 *   owner may sign jobs "none"); otherwise cli. Either way the choice and the reason are
 *   logged at startup.
 * Submissions as another Linux user (multi-user mode) always take the CLI run as that
 * user: the broker needs that user's own signature.
 */
import type { Logger } from "../../../logger.js";
import type { FluxCalls } from "../flux-calls.js";
import { localSocketPath } from "./connect-local.js";
import { createNativeFluxCalls, type NativeFluxCalls, type NativeFluxCallsOptions } from "./native-calls.js";

export type FluxTransportSetting = "auto" | "native" | "cli";

export interface SelectFluxTransportOptions {
  setting: FluxTransportSetting;
  /** FLUX_URI; undefined when unset. */
  fluxUri: string | undefined;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** The CLI calls, for submissions as another user. */
  cli: Pick<FluxCalls, "submit">;
  /** The server's uid. Defaults to this process's. */
  uid?: number;
  /** Handshake + version check deadline at startup. Defaults to 3000. */
  connectTimeoutMs?: number;
  /** Passed on to the native calls (timeouts, in-flight cap, backoff). */
  native?: Partial<Omit<NativeFluxCallsOptions, "fluxUri" | "logger" | "submitAsUser" | "uid">>;
}

export interface FluxTransportChoice {
  transport: "native" | "cli";
  /** Why, in a sentence for the startup log. */
  reason: string;
  /** The native calls to give the backend (FluxBackendOptions.calls); undefined for cli. */
  calls: NativeFluxCalls | undefined;
  /** Closes the native connection (nothing for cli). */
  close(): Promise<void>;
}

/** Thrown for FLUX_RESTFUL_FLUX_TRANSPORT=native when native cannot be used. */
export class FluxTransportError extends Error {
  override name = "FluxTransportError" as const;
}

export async function selectFluxTransport(options: SelectFluxTransportOptions): Promise<FluxTransportChoice> {
  const { setting, fluxUri, logger } = options;
  const choose = (choice: FluxTransportChoice): FluxTransportChoice => {
    logger.info("flux transport selected", { transport: choice.transport, reason: choice.reason });
    return choice;
  };
  const cli = (reason: string) => choose({ transport: "cli", reason, calls: undefined, close: async () => {} });
  const refuse = (why: string): never => {
    throw new FluxTransportError(`FLUX_RESTFUL_FLUX_TRANSPORT=native cannot be used: ${why}`);
  };

  if (setting === "cli") return cli("FLUX_RESTFUL_FLUX_TRANSPORT=cli");
  if (fluxUri === undefined) {
    return setting === "native" ? refuse("FLUX_URI is not set") : cli("auto: FLUX_URI is not set, so `flux` finds the instance itself");
  }
  if (localSocketPath(fluxUri) === undefined) {
    return setting === "native" ? refuse(`FLUX_URI "${fluxUri}" is not a local:// socket`) : cli(`auto: FLUX_URI "${fluxUri}" is not a local:// socket`);
  }

  const uid = options.uid ?? process.getuid?.() ?? 0;
  const calls = createNativeFluxCalls({
    ...options.native,
    fluxUri,
    logger,
    uid,
    submitAsUser: options.cli,
    connectTimeoutMs: options.connectTimeoutMs ?? options.native?.connectTimeoutMs ?? 3000,
  });
  let why: string | undefined;
  let version = "";
  let ownerUid = -1;
  try {
    version = await calls.brokerVersion();
    ownerUid = (await calls.ping()).ownerUid;
    if (ownerUid !== uid) why = `the server (uid ${uid}) is not the instance owner (uid ${ownerUid}), and only the owner may submit over the socket without a munge signature`;
  } catch (e) {
    why = e instanceof Error ? e.message : String(e);
  }
  if (why !== undefined) {
    await calls.close();
    return setting === "native" ? refuse(why) : cli(`auto: ${why}`);
  }
  const prefix = setting === "native" ? "FLUX_RESTFUL_FLUX_TRANSPORT=native" : "auto";
  return choose({
    transport: "native",
    reason: `${prefix}: the broker at ${fluxUri} answered the handshake (flux-core ${version}, owner uid ${ownerUid})`,
    calls,
    close: () => calls.close(),
  });
}
