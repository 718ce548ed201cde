/**
 * Real Linux accounts for multi-user tests (they need root, as CI has): unique names,
 * one shared supplementary group, removed with their home directories afterwards.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export const isRoot = process.getuid?.() === 0;

export interface LinuxTestUsers {
  names: string[];
  group: string;
  remove(): void;
}

export function createLinuxTestUsers(count: number): LinuxTestUsers {
  const tag = randomBytes(4).toString("hex");
  const group = `frg${tag}`;
  const names = Array.from({ length: count }, (_, i) => `fru${tag}${String.fromCharCode(97 + i)}`);
  const created: string[] = [];
  let groupCreated = false;
  const remove = () => {
    for (const name of created.splice(0)) {
      try {
        execFileSync("userdel", ["-r", name], { stdio: "ignore" });
      } catch {
        // userdel -r exits 12 when the mail spool is missing; the account is gone anyway.
      }
    }
    if (groupCreated) execFileSync("groupdel", [group], { stdio: "ignore" });
    groupCreated = false;
  };
  try {
    execFileSync("groupadd", [group], { stdio: "ignore" });
    groupCreated = true;
    for (const name of names) {
      execFileSync("useradd", ["-m", "-s", "/bin/sh", "-G", group, name], { stdio: "ignore" });
      created.push(name);
    }
  } catch (e) {
    remove();
    throw e;
  }
  return { names, group, remove };
}
