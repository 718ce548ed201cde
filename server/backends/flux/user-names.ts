/**
 * Linux user names for the userids Flux reports. Names come from what this server
 * submitted as (multi-user mode), then /etc/passwd, re-read at most once a minute;
 * a uid found nowhere (e.g. only in LDAP) is shown as its number.
 */
import { readFileSync } from "node:fs";

export interface UserNames {
  nameOf(uid: number): string;
  /** The one uid nameOf() gives `name` for; undefined when none or several do. */
  uidOf(name: string): number | undefined;
  /** Records a uid/name pair learned elsewhere (the owner of a submission). */
  learn(uid: number, name: string): void;
}

export interface UserNamesOptions {
  /** The passwd file. Defaults to /etc/passwd. */
  passwdPath?: string;
  /** The server's own uid and name, always known. */
  self: { uid: number; name: string };
}

const REREAD_MS = 60_000;

export function createUserNames(options: UserNamesOptions): UserNames {
  const learned = new Map<number, string>([[options.self.uid, options.self.name]]);
  let passwd = new Map<number, string>();
  let readAt = -Infinity;

  const reread = () => {
    readAt = Date.now();
    try {
      const next = new Map<number, string>();
      for (const line of readFileSync(options.passwdPath ?? "/etc/passwd", "utf8").split("\n")) {
        const [name, , uid] = line.split(":");
        if (name && uid && /^\d+$/.test(uid) && !next.has(Number(uid))) next.set(Number(uid), name);
      }
      passwd = next;
    } catch {
      // No readable passwd file (a minimal container): names learned from submissions remain.
    }
  };

  return {
    nameOf(uid) {
      const known = learned.get(uid) ?? passwd.get(uid);
      if (known !== undefined) return known;
      if (Date.now() - readAt > REREAD_MS) {
        reread();
        const fresh = passwd.get(uid);
        if (fresh !== undefined) return fresh;
      }
      return String(uid);
    },
    uidOf(name) {
      if (Date.now() - readAt > REREAD_MS) reread();
      const uids = new Set<number>();
      for (const [uid, n] of learned) if (n === name) uids.add(uid);
      for (const [uid, n] of passwd) if (n === name && !learned.has(uid)) uids.add(uid);
      return uids.size === 1 ? [...uids][0] : undefined;
    },
    learn(uid, name) {
      learned.set(uid, name);
    },
  };
}
