/**
 * Who a caller's jobs run as. single-user mode: the server's own user, recorded under
 * the caller's name. multi-user mode: the Linux account with the caller's name, with its
 * uid, gid, groups and login environment from the name service.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { JobOwner } from "../backends/backend.js";
import type { Caller } from "../context.js";
import type { AccountLookup } from "./linux-accounts.js";

export type ServerMode = "single-user" | "multi-user";

export interface OwnerResolverOptions {
  serverMode: ServerMode;
  accounts: AccountLookup;
  /** The server's uid (process.getuid()); only root can run jobs as someone else. */
  serverUid: number;
}

export function createOwnerResolver(options: OwnerResolverOptions): (caller: Caller) => Promise<JobOwner> {
  return async (caller) => {
    // With auth off nobody proved a name, so there is no account to switch to.
    if (options.serverMode === "single-user" || !caller.authenticated) return { name: caller.name };
    const account = await options.accounts.lookup(caller.name);
    if (!account) {
      throw new ConnectError(
        `user "${caller.name}" has no linux account on this server (multi-user mode runs jobs as the account of the same name)`,
        Code.FailedPrecondition,
      );
    }
    // As flux-security's IMP does by default: jobs never run as root.
    if (account.uid === 0) {
      throw new ConnectError(`user "${caller.name}" maps to uid 0; jobs do not run as root in multi-user mode`, Code.FailedPrecondition);
    }
    if (options.serverUid !== 0 && account.uid !== options.serverUid) {
      throw new ConnectError(
        `cannot run jobs as "${caller.name}": multi-user mode needs the server to run as root`,
        Code.FailedPrecondition,
      );
    }
    return {
      name: caller.name,
      uid: account.uid,
      gid: account.gid,
      groups: account.groups,
      loginEnv: { HOME: account.home, USER: account.name, LOGNAME: account.name, SHELL: account.shell },
    };
  };
}
