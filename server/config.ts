/**
 * Every setting of the server, in one typed schema: its environment variable, its
 * command-line flag, its default and its doc. This is the only module that reads the
 * environment (main.ts passes process.env in); everything else receives a Config.
 */
import os from "node:os";
import path from "node:path";
import { split as splitShellWords } from "shlex";

/** Thrown for a setting that does not parse; main.ts prints it and exits non-zero. */
export class ConfigError extends Error {
  override name = "ConfigError" as const;
}

interface Setting<T> {
  /** Environment variable(s), first one set wins. */
  env?: readonly string[];
  /** Command-line flag, e.g. "--port". */
  flag?: string;
  doc: string;
  /** A value, or a function of the environment (for defaults derived from it). */
  default: T | ((env: Env) => T);
  parse: (raw: string, name: string) => T;
  /** Never logged or shown; startup says only whether it is set. */
  secret?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

/** Booleans are strict: true/false/1/0/yes/no (any case); anything else is an error, never "truthy". */
export function parseBool(raw: string, name: string): boolean {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new ConfigError(`${name} must be one of true, false, 1, 0, yes, no (got "${raw}")`);
}

function parseInteger(min: number, max: number) {
  return (raw: string, name: string): number => {
    const v = raw.trim();
    if (!/^-?\d+$/.test(v)) throw new ConfigError(`${name} must be an integer (got "${raw}")`);
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max} (got ${n})`);
    return n;
  };
}

function parseOneOf<T extends string>(values: readonly T[]) {
  return (raw: string, name: string): T => {
    const v = raw.trim() as T;
    if (!values.includes(v)) throw new ConfigError(`${name} must be one of ${values.join(", ")} (got "${raw}")`);
    return v;
  };
}

const parseString = (raw: string): string => raw;
const parseOptionalString = (raw: string): string | undefined => (raw === "" ? undefined : raw);

function parseList(raw: string): string[] {
  return raw
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * FLUX_OPTION_FLAGS as flux-restful-api 0.2 read it: shell words (Python shlex rules), each
 * KEY=VALUE with an optional leading "-o" ("-o KEY=VALUE" as two words works too). Unlike
 * 0.2, a word that is not KEY=VALUE stops startup instead of being skipped with a warning.
 */
function parseOptionFlags(raw: string, name: string): Record<string, string> {
  let words: string[];
  try {
    words = splitShellWords(raw);
  } catch (e) {
    throw new ConfigError(`${name} cannot be split into shell words: ${(e as Error).message.toLowerCase()} (got "${raw}")`);
  }
  const out = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    let word = words[i]!;
    if (word === "-o") {
      if (i + 1 >= words.length) throw new ConfigError(`${name}: "-o" must be followed by KEY=VALUE (got "${raw}")`);
      word = words[++i]!;
    } else if (word.startsWith("-o")) word = word.slice(2);
    const eq = word.indexOf("=");
    if (eq <= 0) throw new ConfigError(`${name}: "${words[i]}" is not -oKEY=VALUE (got "${raw}")`);
    out.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return Object.fromEntries(out);
}

const MIB = 1024 * 1024;

/** The schema. Add new settings here, with a doc line; README's configuration table mirrors it. */
export const SETTINGS = {
  host: { env: ["HOST"], flag: "--host", default: "127.0.0.1", parse: parseString, doc: "Address to listen on." },
  port: {
    env: ["PORT"],
    flag: "--port",
    default: 5000,
    parse: parseInteger(0, 65535),
    doc: "Port to listen on (0 picks a free one; the bound address is logged).",
  },
  dataDir: {
    env: ["FLUX_RESTFUL_DATA_DIR"],
    flag: "--data-dir",
    default: ".data",
    parse: parseString,
    doc: "Directory for the SQLite databases and the generated token key.",
  },
  backend: {
    env: ["FLUX_RESTFUL_BACKEND"],
    flag: "--backend",
    default: "auto" as "auto" | "local" | "flux",
    parse: parseOneOf(["auto", "local", "flux"] as const),
    doc: "Job backend: local (embedded executor), flux (a real Flux instance), or auto (flux when an instance answers, else local).",
  },
  logLevel: {
    env: ["FLUX_RESTFUL_LOG_LEVEL"],
    flag: "--log-level",
    default: "info" as "debug" | "info" | "warn" | "error",
    parse: parseOneOf(["debug", "info", "warn", "error"] as const),
    doc: "Least severe log level printed.",
  },
  shutdownGraceMs: {
    env: ["FLUX_RESTFUL_SHUTDOWN_GRACE_MS"],
    default: 4000,
    parse: parseInteger(0, 600_000),
    doc: "How long in-flight requests get to finish on SIGTERM/SIGINT before connections are closed.",
  },
  maxRequestBytes: {
    env: ["FLUX_RESTFUL_MAX_REQUEST_BYTES"],
    default: 4 * MIB,
    parse: parseInteger(1024, 1024 * MIB),
    doc: "Largest request body accepted, checked before parsing.",
  },
  maxHeaderBytes: {
    env: ["FLUX_RESTFUL_MAX_HEADER_BYTES"],
    default: 16 * 1024,
    parse: parseInteger(1024, 1 * MIB),
    doc: "Largest request header block (HTTP/1.1: 431 beyond it; HTTP/2: the stream is refused).",
  },
  localCores: {
    env: ["FLUX_RESTFUL_LOCAL_CORES"],
    default: () => os.availableParallelism(),
    parse: parseInteger(1, 1_000_000),
    doc: "local backend: cores jobs may use (default: this machine's count).",
  },
  localGpus: {
    env: ["FLUX_RESTFUL_LOCAL_GPUS"],
    default: 0,
    parse: parseInteger(0, 1_000_000),
    doc: "local backend: gpus jobs may request (default 0).",
  },
  maxOutputBytesPerJob: {
    env: ["FLUX_RESTFUL_MAX_OUTPUT_BYTES"],
    default: 16 * MIB,
    parse: parseInteger(1024, 1024 * 1024 * MIB),
    doc: "local backend: output kept per job; the rest is dropped and the job marked truncated.",
  },
  launchers: {
    env: ["FLUX_RESTFUL_LAUNCHERS"],
    default: ["nextflow", "snakemake"],
    parse: parseList,
    doc: "Commands accepted with is_launcher (workflow managers that submit their own jobs), comma-separated.",
  },
  optionFlags: {
    env: ["FLUX_OPTION_FLAGS"],
    default: {} as Record<string, string>,
    parse: parseOptionFlags,
    doc: 'Job shell options applied to every submission (API and web UI alike), as flux-restful-api 0.2 reads them: "-ompi=openmpi@5 -okey=value". A request\'s own options win.',
  },
  numberNodes: {
    env: ["FLUX_NUMBER_NODES"],
    default: undefined as number | undefined,
    parse: parseInteger(1, 1_000_000),
    doc: "Caps the nodes reported and the num_nodes a job may ask for (default: no cap, what the backend discovers).",
  },
  hasGpus: {
    env: ["FLUX_HAS_GPUS"],
    default: undefined as boolean | undefined,
    parse: parseBool,
    doc: "false: report no gpus and refuse gpu requests; true or unset: the gpus the backend discovers.",
  },
  fluxCommand: {
    env: ["FLUX_RESTFUL_FLUX_CMD"],
    default: "flux",
    parse: parseString,
    doc: "flux backend: the flux executable.",
  },
  fluxUri: {
    env: ["FLUX_URI"],
    default: undefined as string | undefined,
    parse: parseOptionalString,
    doc: "flux backend: the instance to use (default: the enclosing instance, as `flux` finds it).",
  },
  fluxTransport: {
    env: ["FLUX_RESTFUL_FLUX_TRANSPORT"],
    default: "auto" as "auto" | "native" | "cli",
    parse: parseOneOf(["auto", "native", "cli"] as const),
    doc: "flux backend: native (the broker's local:// socket), cli (one flux command per call), or auto (native when FLUX_URI is a local:// broker that answers, else cli). See docs/flux-native-transport.md.",
  },
  requireAuth: {
    env: ["FLUX_REQUIRE_AUTH"],
    flag: "--require-auth",
    default: false,
    parse: parseBool,
    doc: "Require a bearer token or HTTP Basic credentials on every request but token exchange, health and reflection.",
  },
  serverMode: {
    env: ["FLUX_SERVER_MODE"],
    flag: "--server-mode",
    default: "single-user" as "single-user" | "multi-user",
    parse: parseOneOf(["single-user", "multi-user"] as const),
    doc: "single-user: jobs run as the server's user; multi-user: as the Linux account named like the API user (needs root and auth).",
  },
  fluxUser: {
    env: ["FLUX_USER"],
    default: undefined as string | undefined,
    parse: parseOptionalString,
    doc: "With FLUX_TOKEN: a superuser created at startup, or whose password is updated.",
  },
  fluxToken: {
    env: ["FLUX_TOKEN"],
    default: undefined as string | undefined,
    parse: parseOptionalString,
    secret: true,
    doc: "The FLUX_USER superuser's password.",
  },
  secretKey: {
    env: ["FLUX_SECRET_KEY"],
    default: undefined as string | undefined,
    parse: parseOptionalString,
    secret: true,
    doc: "Shared with clients: verifies the signed login payload of POST /v1/token. Required with auth on; never signs access tokens.",
  },
  accessTokenExpiresMinutes: {
    env: ["FLUX_ACCESS_TOKEN_EXPIRES_MINUTES"],
    default: 600,
    parse: parseInteger(1, 366 * 24 * 60),
    doc: "Lifetime of access tokens, in minutes.",
  },
  tokenKey: {
    env: ["FLUX_RESTFUL_TOKEN_KEY"],
    default: undefined as string | undefined,
    parse: parseOptionalString,
    secret: true,
    doc: "Server-only key that signs access tokens (at least 32 bytes); default: generated once into <data dir>/token.key.",
  },
} satisfies Record<string, Setting<unknown>>;

type Schema = typeof SETTINGS;
type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** The parsed settings, plus what is derived from the environment once. */
export type Config = { readonly [K in keyof Schema]: ValueOf<Schema[K]> } & {
  /** Server variables a job may see (a small allowlist); never secrets. */
  readonly jobBaseEnvironment: Readonly<Record<string, string>>;
};

/** Variables passed from the server's environment to jobs; everything else is withheld. */
const JOB_ENV_ALLOWLIST = ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"];

function buildJobEnvironment(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of JOB_ENV_ALLOWLIST) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  out.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  return out;
}

/** Reads `--flag value` and `--flag=value` pairs; unknown flags are an error. */
function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set(Object.values(SETTINGS as Record<string, Setting<unknown>>).map((s) => s.flag));
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(flag)) throw new ConfigError(`unknown option "${arg}"`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`);
    out.set(flag, value);
  }
  return out;
}

/**
 * Parses the environment and flags into a Config; throws ConfigError naming the
 * first setting that does not parse. Flags win over the environment.
 */
export function loadConfig(env: Env, argv: readonly string[] = [], overrides: Partial<Config> = {}): Config {
  const flags = parseFlags(argv);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(SETTINGS as Record<string, Setting<unknown>>)) {
    const fromFlag = raw.flag ? flags.get(raw.flag) : undefined;
    const envName = raw.env?.find((e) => env[e] !== undefined);
    if (fromFlag !== undefined) out[key] = raw.parse(fromFlag, raw.flag!);
    else if (envName !== undefined) out[key] = raw.parse(env[envName]!, envName);
    else out[key] = typeof raw.default === "function" ? (raw.default as (e: Env) => unknown)(env) : raw.default;
  }
  out.dataDir = path.resolve(String(out.dataDir));
  out.jobBaseEnvironment = buildJobEnvironment(env);
  return { ...(out as Config), ...overrides };
}

/** Names of secret settings and whether each is set: what startup may print about secrets. */
export function describeSecrets(config: Config): Record<string, "set" | "unset"> {
  const out: Record<string, "set" | "unset"> = {};
  for (const [key, s] of Object.entries(SETTINGS as Record<string, Setting<unknown>>)) {
    if (s.secret) out[s.env?.[0] ?? key] = (config as Record<string, unknown>)[key] ? "set" : "unset";
  }
  return out;
}

/** Rows for the README's configuration table: [env, flag, default, doc]. */
export function describeSettings(): string[][] {
  return Object.values(SETTINGS as Record<string, Setting<unknown>>).map((s) => [
    (s.env ?? []).join(", "),
    s.flag ?? "",
    typeof s.default === "function" ? "(derived)" : JSON.stringify(s.default) ?? "",
    s.doc,
  ]);
}
