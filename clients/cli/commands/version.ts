/**
 * `version`: the CLI's version and, when the server answers within two seconds, the server's
 * (with its backend and whether it requires auth).
 */
import { UsageError } from "../cli-error.js";
import type { Command } from "../context.js";
import { CLI_VERSION } from "../version.js";

const SERVER_TIMEOUT_MS = 2000;

export const versionCommand: Command = {
  summary: "print the client's version, and the server's when it answers",
  usage: "version",
  options: {},
  async run(ctx, { positionals }) {
    if (positionals.length > 0) throw new UsageError(`version takes no arguments (got "${positionals.join(" ")}")`);
    let server: { version: string; backend: string; server_mode: string; auth_required: boolean; url: string } | undefined;
    try {
      const info = (await ctx.client().whoAmI({ timeoutMs: SERVER_TIMEOUT_MS })).server;
      if (info) {
        server = { version: info.version, backend: info.backend, server_mode: info.serverMode, auth_required: info.authRequired, url: ctx.settings().host };
      }
    } catch (e) {
      if (ctx.flags.debug) await ctx.writeErr(`flux-restful-cli: no server version: ${(e as Error).message}\n`);
    }
    if (ctx.flags.json) {
      await ctx.print({ client: CLI_VERSION, server: server ?? null });
      return 0;
    }
    await ctx.write(`flux-restful-cli ${CLI_VERSION}\n`);
    if (server) {
      const auth = server.auth_required ? "auth on" : "auth off";
      await ctx.write(`server ${server.version} at ${server.url} (${server.backend} backend, ${server.server_mode}, ${auth})\n`);
    }
    return 0;
  },
};
