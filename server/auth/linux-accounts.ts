/**
 * Looks up Linux accounts through the name service (`getent passwd`, `id -G`), so
 * accounts from LDAP or SSSD are found as well as those in /etc/passwd.
 */
import { execFile } from "node:child_process";

export interface LinuxAccount {
  name: string;
  uid: number;
  gid: number;
  /** Every group the account is in, primary first. */
  groups: number[];
  home: string;
  shell: string;
}

export interface AccountLookupOptions {
  /** Found accounts are reused this long. Defaults to 30000. */
  cacheMs?: number;
  /** Each lookup command gets this long. Defaults to 5000. */
  timeoutMs?: number;
}

export interface AccountLookup {
  /** The account, or undefined when the name service does not know it. */
  lookup(name: string): Promise<LinuxAccount | undefined>;
}

/** Runs a command; resolves with stdout, or undefined when it exits with `notFoundCode`. */
function run(file: string, args: string[], timeoutMs: number, notFoundCode: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" } }, (err, stdout) => {
      if (!err) resolve(stdout);
      else if (err.code === notFoundCode) resolve(undefined);
      else reject(new Error(`account lookup "${file} ${args.join(" ")}" failed`, { cause: err }));
    });
  });
}

/** Parses one passwd line: name:password:uid:gid:gecos:home:shell. */
export function parsePasswdLine(line: string): Omit<LinuxAccount, "groups"> | undefined {
  const fields = line.trim().split(":");
  if (fields.length !== 7) return undefined;
  const [name, , uid, gid, , home, shell] = fields as [string, string, string, string, string, string, string];
  if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home, shell: shell || "/bin/sh" };
}

export function createAccountLookup(options: AccountLookupOptions = {}): AccountLookup {
  const cacheMs = options.cacheMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const cache = new Map<string, { account: LinuxAccount; expiresMs: number }>();

  return {
    async lookup(name) {
      const cached = cache.get(name);
      if (cached && cached.expiresMs > Date.now()) return cached.account;
      // getent exits 2 when the key is not found (getent(1)); user names are validated, never options.
      const line = await run("getent", ["passwd", name], timeoutMs, 2);
      const entry = line === undefined ? undefined : parsePasswdLine(line.split("\n")[0]!);
      if (!entry || entry.name !== name) {
        cache.delete(name);
        return undefined;
      }
      const ids = (await run("id", ["-G", name], timeoutMs, -1)) ?? "";
      const groups = ids.trim().split(/\s+/).filter(Boolean).map(Number).filter(Number.isInteger);
      const account = { ...entry, groups: [entry.gid, ...groups.filter((g) => g !== entry.gid)] };
      cache.set(name, { account, expiresMs: Date.now() + cacheMs });
      return account;
    },
  };
}
