/**
 * flux-restful-cli: global flags, dispatch to a command, and the one-line error report.
 * runCli never exits the process; main.ts does that with the code it returns.
 */
import { Code, ConnectError, checkProtocol, type FluxProtocol } from "../sdk/index.js";
import { parseArgs, stringOption, type OptionSpecs, type OptionValues } from "./args.js";
import { CliError, UsageError } from "./cli-error.js";
import { configCommand } from "./commands/config.js";
import { cancelCommand, infoCommand, listJobsCommand, listNodesCommand, stopServiceCommand } from "./commands/job-commands.js";
import { logsCommand } from "./commands/logs.js";
import { shellCommand } from "./commands/shell.js";
import { submitCommand } from "./commands/submit.js";
import { versionCommand } from "./commands/version.js";
import { createCliContext, type CliIo, type Command, type GlobalFlags } from "./context.js";
import { checkSetting, parseSetOverride, settingsPaths, type Env, type SettingsValues } from "./settings.js";
import { CLI_VERSION } from "./version.js";

const COMMANDS: Readonly<Record<string, Command>> = {
  submit: submitCommand,
  info: infoCommand,
  cancel: cancelCommand,
  logs: logsCommand,
  "list-jobs": listJobsCommand,
  "list-nodes": listNodesCommand,
  "stop-service": stopServiceCommand,
  shell: shellCommand,
  config: configCommand,
  version: versionCommand,
};

/** Flags every command takes, before or after its name. */
const GLOBAL_OPTIONS: OptionSpecs = {
  debug: { type: "boolean" },
  quiet: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  settings_file: { type: "string" },
  host: { type: "string" },
  protocol: { type: "string" },
  c: { type: "string", short: "c", multiple: true },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`);
  return [
    `usage: flux-restful-cli [--settings-file FILE] [--host URL] [--protocol connect|grpc|grpc-web]`,
    `                        [-c set:KEY:VALUE] [--json] [--quiet] [--debug] COMMAND [ARGS]`,
    "",
    "commands:",
    ...lines,
    "",
    "Credentials come from FLUX_USER and FLUX_TOKEN (or the settings' flux_user and flux_token);",
    "the server from --host, FLUX_RESTFUL_HOST, or the settings' host. See docs/cli.md.",
    "",
  ].join("\n");
}

function commandUsage(name: string, command: Command): string {
  return `usage: flux-restful-cli ${command.usage}\n\n${command.summary}\n`;
}

/** The error as one line, with a hint where one helps. */
function describeError(e: unknown, host: string | undefined): string {
  if (e instanceof CliError) return e.message;
  if (e instanceof ConnectError) {
    if (e.code === Code.Unavailable) return `cannot reach the server at ${host ?? "?"}: ${e.rawMessage}`;
    if (e.code === Code.Unauthenticated && !/token for user/.test(e.rawMessage)) {
      return `${e.rawMessage} (set FLUX_USER and FLUX_TOKEN, or flux_user and flux_token in the settings)`;
    }
    return e.rawMessage;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

export async function runCli(argv: readonly string[], io: CliIo, env: Env): Promise<number> {
  let debug = argv.includes("--debug");
  let host: string | undefined;
  try {
    const head = parseArgs(argv, GLOBAL_OPTIONS, { stopAtFirstPositional: true });
    const [name, ...rest] = head.positionals;
    if (head.options.version === true) {
      await new Promise((r) => io.stdout.write(`flux-restful-cli ${CLI_VERSION}\n`, r));
      return 0;
    }
    if (name === undefined) {
      await new Promise((r) => io.stdout.write(`Flux RESTful client v${CLI_VERSION}\n${usage()}`, r));
      return 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command "${name}" (expected one of ${Object.keys(COMMANDS).join(", ")})`);
    const own = parseArgs(rest, { ...GLOBAL_OPTIONS, ...command.options }, { stopAtFirstPositional: command.stopAtFirstPositional });
    const options: OptionValues = { ...head.options, ...own.options };
    const setOverrides = [...((head.options.c as string[] | undefined) ?? []), ...((own.options.c as string[] | undefined) ?? [])];
    debug = options.debug === true;
    if (options.help === true || head.options.help === true) {
      await new Promise((r) => io.stdout.write(commandUsage(name, command), r));
      return 0;
    }

    const overrides: Partial<SettingsValues> = {};
    for (const text of setOverrides) {
      const [key, value] = parseSetOverride(text);
      overrides[key] = value;
    }
    const hostFlag = stringOption(options, "host");
    if (hostFlag !== undefined) {
      checkSetting("host", hostFlag, "--host");
      overrides.host = hostFlag;
    }
    let protocol: FluxProtocol;
    try {
      protocol = checkProtocol(stringOption(options, "protocol") ?? "connect");
    } catch (e) {
      throw new UsageError(`--protocol: ${(e as Error).message}`);
    }
    const flags: GlobalFlags = { debug, quiet: options.quiet === true, json: options.json === true, protocol, overrides };
    const sdk = command.offline ? undefined : await import("../sdk/node.js");
    const ctx = createCliContext(io, env, flags, settingsPaths(env, stringOption(options, "settings_file")), sdk?.createFluxClient);
    try {
      host = ctx.settings().host;
    } catch {
      // Reported by the command that needs the settings; `config` can still repair them.
    }
    return await command.run(ctx, own);
  } catch (e) {
    const message = describeError(e, host);
    const trace = debug && e instanceof Error && e.stack ? `${e.stack}\n` : "";
    await new Promise((r) => io.stderr.write(`flux-restful-cli: ${message}\n${trace}`, r));
    return e instanceof CliError ? e.exitCode : 1;
  }
}
