/**
 * The auth layer with AuthService and AdminService behind a router transport (in-memory
 * tier): the real interceptor, store, tokens and services, no network.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { AdminService } from "../../../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService } from "../../../gen/flux/restful/v1/auth_service_pb.js";
import { createAuth, type Auth, type AuthTuning } from "../../../server/auth/index.js";
import { loadConfig } from "../../../server/config.js";
import { kPeerAddress, type Caller } from "../../../server/context.js";
import { createJsonLogger } from "../../../server/logger.js";
import { createAdminService } from "../../../server/services/admin-service.js";
import { createAuthService } from "../../../server/services/auth-service.js";

export const SECRET_KEY = "test-shared-secret-key-0123456789abcdef";
export const CHEAP_TUNING: AuthTuning = {
  scryptCost: { log2N: 10, r: 8, p: 1 },
  limiter: { freeAttempts: 3, baseDelayMs: 50, maxDelayMs: 200, maxWaiting: 2 },
};

export interface AuthHarness {
  auth: Auth;
  dataDir: string;
  logs: Record<string, unknown>[];
  anonymousCaller: Caller;
  stopRequests: number;
  /** Clients whose calls carry this Authorization header (none when undefined). */
  clients(authorization?: string): { auth: Client<typeof AuthService>; admin: Client<typeof AdminService> };
  close(): void;
}

export async function createAuthHarness(env: Record<string, string> = {}, tuning = CHEAP_TUNING): Promise<AuthHarness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-auth-harness-"));
  const config = loadConfig({ ...env, FLUX_RESTFUL_DATA_DIR: dataDir });
  const logs: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ level: "debug", write: (line) => logs.push(JSON.parse(line)) });
  const anonymousCaller: Caller = { name: os.userInfo().username, superuser: true, authenticated: false };
  let auth: Auth;
  try {
    auth = await createAuth({ config, logger, anonymousCaller, tuning });
  } catch (e) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const harness: AuthHarness = {
    auth,
    dataDir,
    logs,
    anonymousCaller,
    stopRequests: 0,
    clients(authorization) {
      const transport = createRouterTransport(
        (router) => {
          router.service(
            AuthService,
            createAuthService({
              authenticator: auth.authenticator,
              tokens: auth.tokens,
              secretKey: config.secretKey,
              anonymousCaller,
              info: { version: "test", backend: "none", serverMode: config.serverMode, authRequired: config.requireAuth },
              logger,
            }),
          );
          router.service(
            AdminService,
            createAdminService({ users: auth.users, anonymousCaller, requestStop: () => harness.stopRequests++, logger }),
          );
        },
        {
          router: {
            interceptors: [
              // Stands in for the node adapter, which sets the peer address.
              (next) => (req) => {
                req.contextValues.set(kPeerAddress, "192.0.2.7");
                return next(req);
              },
              auth.interceptor,
            ],
          },
          transport: authorization === undefined ? {} : { interceptors: [(next) => (req) => (req.header.set("authorization", authorization), next(req))] },
        },
      );
      return { auth: createClient(AuthService, transport), admin: createClient(AdminService, transport) };
    },
    close() {
      auth.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export const basicHeader = (name: string, password: string) =>
  `Basic ${Buffer.from(`${name}:${password}`).toString("base64")}`;
