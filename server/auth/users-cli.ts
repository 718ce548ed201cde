/**
 * `flux-restful-server users ...`: manage the users database from the shell, with or
 * without a running server (SQLite in WAL mode; a running server sees changes at once).
 *
 *   users add NAME [--superuser] [--password-stdin]
 *   users list
 *   users remove NAME
 *   users passwd NAME [--password-stdin]
 *   users activate NAME | users deactivate NAME
 *
 * Passwords never come from argv (other users can read it from /proc): from a hidden
 * prompt on a terminal, or the first line of stdin with --password-stdin.
 */
import path from "node:path";
import readline from "node:readline";
import { Writable } from "node:stream";
import { ConfigError, loadConfig } from "../config.js";
import { USERS_DB_FILE } from "./index.js";
import { isUserError, createUserStore, type UserStore } from "./user-store.js";

export interface UsersCliOptions {
  /** Arguments after `users`; server flags such as --data-dir may be mixed in. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const USERS_USAGE = `usage: flux-restful-server users add NAME [--superuser] [--password-stdin]
       flux-restful-server users list
       flux-restful-server users remove NAME
       flux-restful-server users passwd NAME [--password-stdin]
       flux-restful-server users activate NAME
       flux-restful-server users deactivate NAME
Server options such as --data-dir select the database (default: FLUX_RESTFUL_DATA_DIR, else .data).
`;

const OWN_FLAGS = new Set(["--superuser", "--password-stdin"]);
const NEEDS_NAME = new Set(["add", "remove", "passwd", "activate", "deactivate"]);

class UsageError extends Error {}

/** Splits our flags and positionals from server flags (`--flag value` or `--flag=value`). */
function splitArgs(argv: readonly string[]) {
  const own = new Set<string>();
  const positional: string[] = [];
  const server: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (OWN_FLAGS.has(arg)) own.add(arg);
    else if (arg.startsWith("--")) {
      server.push(arg);
      if (!arg.includes("=") && i + 1 < argv.length) server.push(argv[++i]!);
    } else positional.push(arg);
  }
  return { own, positional, server };
}

async function readStdinLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stdin) {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (text.includes("\n")) break;
  }
  return text.split(/\r?\n/)[0]!;
}

/** Asks each question on a terminal with echo off (raw mode is set before the first prompt shows). */
async function promptHidden(questions: string[], options: UsersCliOptions): Promise<string[]> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = readline.createInterface({ input: options.stdin, output: muted, terminal: true });
  const answers: string[] = [];
  try {
    for (const question of questions) {
      options.stderr.write(question);
      answers.push(await new Promise<string>((resolve) => rl.question("", resolve)));
      options.stderr.write("\n");
    }
    return answers;
  } finally {
    rl.close();
  }
}

async function readPassword(own: Set<string>, options: UsersCliOptions): Promise<string> {
  if (own.has("--password-stdin")) return readStdinLine(options.stdin);
  if (!options.stdin.isTTY) throw new UsageError("no password given: use --password-stdin or run in a terminal");
  const [first, second] = await promptHidden(["password: ", "again: "], options);
  if (first !== second) throw new UsageError("the passwords do not match");
  return first!;
}

function formatList(users: UserStore): string {
  const rows = users.list().map((u) => [u.name, u.active ? "yes" : "no", u.superuser ? "yes" : "no", new Date(u.createdMs).toISOString()]);
  const all = [["NAME", "ACTIVE", "SUPERUSER", "CREATED"], ...rows];
  const widths = all[0]!.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ")).join("\n") + "\n";
}

async function runCommand(command: string, name: string, own: Set<string>, users: UserStore, options: UsersCliOptions) {
  switch (command) {
    case "list":
      options.stdout.write(formatList(users));
      return;
    case "add": {
      const password = await readPassword(own, options);
      await users.create({ name, password, superuser: own.has("--superuser") });
      options.stdout.write(`user "${name}" added${own.has("--superuser") ? " (superuser)" : ""}\n`);
      return;
    }
    case "remove":
      users.remove(name);
      options.stdout.write(`user "${name}" removed\n`);
      return;
    case "passwd":
      // Checked first, so nobody types a password for a user that does not exist.
      if (!users.get(name)) throw new UsageError(`user "${name}" not found`);
      await users.setPassword(name, await readPassword(own, options));
      options.stdout.write(`password of "${name}" changed; its tokens are revoked\n`);
      return;
    case "activate":
    case "deactivate":
      users.setActive(name, command === "activate");
      options.stdout.write(`user "${name}" ${command}d\n`);
      return;
  }
}

/** Runs one users command; resolves with the exit code (0 ok, 1 refused, 2 usage). */
export async function runUsersCli(options: UsersCliOptions): Promise<number> {
  const { own, positional, server } = splitArgs(options.argv);
  const [command, name, ...extra] = positional;
  const fail = (code: number, message: string) => {
    options.stderr.write(`flux-restful-server: ${message}\n`);
    return code;
  };
  if (command === undefined || command === "help" || server.includes("--help")) {
    options.stdout.write(USERS_USAGE);
    return command === undefined ? 2 : 0;
  }
  const valid = command === "list" || NEEDS_NAME.has(command);
  if (!valid) return fail(2, `unknown users command "${command}"\n${USERS_USAGE}`);
  if (NEEDS_NAME.has(command) ? name === undefined || extra.length > 0 : name !== undefined) {
    return fail(2, `wrong arguments for "users ${command}"\n${USERS_USAGE}`);
  }
  const allowed = command === "add" ? OWN_FLAGS : command === "passwd" ? new Set(["--password-stdin"]) : new Set();
  const stray = [...own].find((f) => !allowed.has(f));
  if (stray) return fail(2, `option ${stray} does not apply to "users ${command}"`);

  let users: UserStore;
  try {
    const config = loadConfig(options.env, server);
    users = createUserStore({ file: path.join(config.dataDir, USERS_DB_FILE) });
  } catch (e) {
    if (e instanceof ConfigError) return fail(2, e.message);
    throw e;
  }
  try {
    await runCommand(command, name ?? "", own, users, options);
    return 0;
  } catch (e) {
    if (isUserError(e) || e instanceof UsageError) return fail(1, e.message);
    throw e;
  } finally {
    users.close();
  }
}
