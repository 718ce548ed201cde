/**
 * `shell`: a Node REPL with `client` connected as the settings say, and the SDK's names
 * (JobState, PENDING, parseJobFilter, ...) in scope. Top-level await works:
 * `await client.nodes()`.
 */
import repl from "node:repl";
import { UsageError } from "../cli-error.js";
import type { Command } from "../context.js";

export const shellCommand: Command = {
  summary: "a Node REPL with a connected `client`",
  usage: "shell",
  options: {},
  async run(ctx, { positionals }) {
    if (positionals.length > 0) throw new UsageError(`shell takes no arguments (got "${positionals.join(" ")}")`);
    const sdk = await import("../../sdk/node.js");
    const client = ctx.client();
    await ctx.note(`flux-restful-cli shell: \`client\` talks to ${ctx.settings().host}; try: await client.nodes()`);
    const server = repl.start({
      prompt: "flux> ",
      input: ctx.io.stdin,
      output: ctx.io.stdout,
      terminal: ctx.io.stdin.isTTY === true && ctx.io.stdout.isTTY === true,
      useGlobal: false,
    });
    Object.assign(server.context, sdk, { client });
    return new Promise<number>((resolve) => server.on("exit", () => resolve(0)));
  },
};
