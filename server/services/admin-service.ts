/**
 * AdminService: user management and StopService, for superusers only. With auth off the
 * anonymous caller (the local operator) is a superuser, so these work without a token;
 * 0.2's /v1/service/stop demanded a bearer token even then, which no one could present.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../gen/flux/restful/v1/admin_service_pb.js";
import { isUserError, type UserRecord, type UserStore } from "../auth/user-store.js";
import { kCaller, type Caller } from "../context.js";
import type { Logger } from "../logger.js";

export interface AdminServiceOptions {
  users: UserStore;
  /** The caller when no auth layer set one (auth off). */
  anonymousCaller: Caller;
  /** Starts the same graceful shutdown as SIGTERM; called just after StopService answers. */
  requestStop: () => void;
  logger: Logger;
}

const CODES = { invalid: Code.InvalidArgument, exists: Code.AlreadyExists, "not-found": Code.NotFound } as const;

async function mapUserErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUserError(e)) throw new ConnectError(e.message, CODES[e.kind]);
    throw e;
  }
}

const toUser = (u: UserRecord) => ({
  name: u.name,
  active: u.active,
  superuser: u.superuser,
  createTime: timestampFromMs(u.createdMs),
});

export function createAdminService(options: AdminServiceOptions): ServiceImpl<typeof AdminService> {
  const { users, logger } = options;

  const superuser = (ctx: HandlerContext, action: string): Caller => {
    const caller = ctx.values.get(kCaller) ?? options.anonymousCaller;
    if (!caller.superuser) throw new ConnectError(`only superusers may ${action}`, Code.PermissionDenied);
    return caller;
  };
  // Keeps an operator from locking themselves out over the API (the CLI can still do it).
  const notSelf = (caller: Caller, name: string, action: string) => {
    if (caller.authenticated && caller.name === name) {
      throw new ConnectError(`you cannot ${action} your own account ("${name}")`, Code.FailedPrecondition);
    }
  };

  return {
    async createUser(req, ctx) {
      const caller = superuser(ctx, "create users");
      const user = await mapUserErrors(() =>
        users.create({ name: req.name, password: req.password, superuser: req.superuser }),
      );
      logger.info("user created", { by: caller.name, user: user.name, superuser: user.superuser });
      return { user: toUser(user) };
    },

    async listUsers(_req, ctx) {
      superuser(ctx, "list users");
      return { users: users.list().map(toUser) };
    },

    async deleteUser(req, ctx) {
      const caller = superuser(ctx, "delete users");
      notSelf(caller, req.name, "delete");
      await mapUserErrors(() => users.remove(req.name));
      logger.info("user deleted", { by: caller.name, user: req.name });
      return {};
    },

    async setUserPassword(req, ctx) {
      const caller = superuser(ctx, "set passwords");
      await mapUserErrors(() => users.setPassword(req.name, req.password));
      logger.info("password set", { by: caller.name, user: req.name });
      return {};
    },

    async setUserActive(req, ctx) {
      const caller = superuser(ctx, "activate or deactivate users");
      if (!req.active) notSelf(caller, req.name, "deactivate");
      const user = await mapUserErrors(() => users.setActive(req.name, req.active));
      logger.info(req.active ? "user activated" : "user deactivated", { by: caller.name, user: req.name });
      return { user: toUser(user) };
    },

    async stopService(_req, ctx) {
      const caller = superuser(ctx, "stop the service");
      logger.info("stop requested", { by: caller.name });
      // After the answer is on its way: the shutdown aborts handlers still running.
      setTimeout(options.requestStop, 50);
      return {};
    },
  };
}
