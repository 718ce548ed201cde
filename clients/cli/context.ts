/**
 * What every command gets: the streams, the environment, the global flags, the settings after
 * precedence, and a client built from them on first use.
 */
import type { Interceptor } from "@connectrpc/connect";
import { ConnectError, type FluxClient, type FluxProtocol } from "../sdk/index.js";
import type { createFluxClient as CreateFluxClient } from "../sdk/node.js";
import type { OptionSpecs, ParsedArgs } from "./args.js";
import { formatJson } from "./output.js";
import { effectiveSettings, loadFileSettings, type EffectiveSettings, type Env, type SettingsPaths, type SettingsValues } from "./settings.js";

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface GlobalFlags {
  debug: boolean;
  quiet: boolean;
  json: boolean;
  protocol: FluxProtocol;
  /** --host and -c set:KEY:VALUE: the "flag" layer of the settings. */
  overrides: Partial<SettingsValues>;
}

export interface CliContext {
  readonly io: CliIo;
  readonly env: Env;
  readonly flags: GlobalFlags;
  readonly paths: SettingsPaths;
  /** The settings after precedence (reads the files on first use). */
  settings(): EffectiveSettings;
  /** A client for the effective host and credentials (built on first use). */
  client(): FluxClient;
  /** Writes to stdout, waiting when the pipe is full. */
  write(data: string | Uint8Array): Promise<void>;
  /** Writes to stderr, waiting when the pipe is full. */
  writeErr(data: string | Uint8Array): Promise<void>;
  /** A line on stderr about what is going on; silent with --quiet. */
  note(line: string): Promise<void>;
  /** Prints a result: one-line JSON with --json, a table (when given) on a terminal, else pretty JSON. */
  print(value: unknown, table?: () => string): Promise<void>;
}

export interface Command {
  /** One line for the help. */
  summary: string;
  /** The arguments, for the help and usage errors. */
  usage: string;
  options: OptionSpecs;
  /** Flags after the first positional belong to it (submit's COMMAND). */
  stopAtFirstPositional?: boolean;
  /** Needs no server, so no client is loaded. */
  offline?: boolean;
  /** Returns the exit code. */
  run(ctx: CliContext, args: ParsedArgs): Promise<number>;
}

/** With --debug, one stderr line per RPC: method, outcome, duration. */
function debugInterceptor(writeErr: (s: string) => Promise<void>): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const done = (outcome: string) => writeErr(`flux-restful-cli: debug: ${req.method.parent.typeName}/${req.method.name} ${req.url} -> ${outcome} (${(performance.now() - started).toFixed(0)} ms)\n`);
    try {
      const res = await next(req);
      await done(res.stream ? "stream open" : "ok");
      return res;
    } catch (e) {
      await done(ConnectError.from(e).message);
      throw e;
    }
  };
}

function writer(stream: NodeJS.WritableStream) {
  return (data: string | Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      stream.write(data, (err) => (err ? reject(err) : resolve()));
    });
}

/**
 * `createFluxClient` is passed in rather than imported: the Node transports take a third of
 * the CLI's start-up time, and commands that need no server (config) do without them.
 */
export function createCliContext(
  io: CliIo,
  env: Env,
  flags: GlobalFlags,
  paths: SettingsPaths,
  createFluxClient?: typeof CreateFluxClient,
): CliContext {
  let settings: EffectiveSettings | undefined;
  let client: FluxClient | undefined;
  const write = writer(io.stdout);
  const writeErr = writer(io.stderr);
  const ctx: CliContext = {
    io,
    env,
    flags,
    paths,
    settings() {
      settings ??= effectiveSettings(loadFileSettings(paths), env, flags.overrides);
      return settings;
    },
    client() {
      const s = ctx.settings();
      if (!createFluxClient) throw new Error("this command has no client");
      client ??= createFluxClient({
        baseUrl: s.host,
        user: s.user,
        token: s.token,
        secretKey: s.secretKey,
        protocol: flags.protocol,
        interceptors: flags.debug ? [debugInterceptor(writeErr)] : [],
        env: {},
      });
      return client;
    },
    write,
    writeErr,
    async note(line) {
      if (!flags.quiet) await writeErr(`${line}\n`);
    },
    async print(value, table) {
      if (flags.json) return write(formatJson(value, true));
      if (table && io.stdout.isTTY) return write(table());
      return write(formatJson(value, false));
    },
  };
  return ctx;
}
