/**
 * The one-call commands: info, cancel, list-jobs, list-nodes, stop-service.
 */
import { parseJobFilter, type Job } from "../../sdk/index.js";
import { intOption, stringOption } from "../args.js";
import { UsageError } from "../cli-error.js";
import type { Command } from "../context.js";
import { jobsTable, jobToJson, nodesTable, nodeToJson } from "../output.js";

/** The single job id a command takes. */
export function oneId(positionals: readonly string[], usage: string): string {
  if (positionals.length !== 1 || positionals[0] === "") throw new UsageError(`expected one job id: flux-restful-cli ${usage}`);
  return positionals[0]!;
}

function noArguments(positionals: readonly string[], name: string): void {
  if (positionals.length > 0) throw new UsageError(`${name} takes no arguments (got "${positionals.join(" ")}")`);
}

export const infoCommand: Command = {
  summary: "show a job's record",
  usage: "info ID",
  options: {},
  async run(ctx, { positionals }) {
    const job = await ctx.client().get(oneId(positionals, this.usage));
    await ctx.print(jobToJson(job));
    return 0;
  },
};

export const cancelCommand: Command = {
  summary: "cancel an active job",
  usage: "cancel ID [--message TEXT]",
  options: { message: { type: "string" } },
  async run(ctx, { positionals, options }) {
    const id = oneId(positionals, this.usage);
    await ctx.client().cancel(id, stringOption(options, "message") ?? "");
    await ctx.print({ id, message: "cancel requested" });
    return 0;
  },
};

const DEFAULT_LIMIT = 100;
const MAX_PAGE_SIZE = 1000;

export const listJobsCommand: Command = {
  summary: "list jobs, newest first",
  usage: "list-jobs [--state STATE,...] [--user USER] [--limit N]",
  options: { state: { type: "string" }, user: { type: "string" }, limit: { type: "string" } },
  async run(ctx, { positionals, options }) {
    noArguments(positionals, "list-jobs");
    const limit = intOption(options, "limit", 1) ?? DEFAULT_LIMIT;
    let masks = { stateMask: 0, resultMask: 0 };
    const state = stringOption(options, "state");
    if (state !== undefined) {
      try {
        masks = parseJobFilter(state);
      } catch (e) {
        throw new UsageError(`--state: ${(e as Error).message}`);
      }
    }
    const jobs: Job[] = [];
    let total = 0;
    const pages = ctx.client().list({ ...masks, user: stringOption(options, "user") ?? "", pageSize: Math.min(limit, MAX_PAGE_SIZE) });
    for await (const page of pages) {
      total = page.totalSize;
      jobs.push(...page.jobs.slice(0, limit - jobs.length));
      if (jobs.length >= limit) break;
    }
    await ctx.print({ jobs: jobs.map(jobToJson) }, () => jobsTable(jobs));
    if (total > jobs.length) await ctx.note(`flux-restful-cli: showing ${jobs.length} of ${total} jobs (see --limit)`);
    return 0;
  },
};

export const listNodesCommand: Command = {
  summary: "list the nodes jobs run on",
  usage: "list-nodes",
  options: {},
  async run(ctx, { positionals }) {
    noArguments(positionals, "list-nodes");
    const nodes = await ctx.client().nodes();
    await ctx.print({ nodes: nodes.map(nodeToJson) }, () => nodesTable(nodes));
    return 0;
  },
};

export const stopServiceCommand: Command = {
  summary: "stop the server (superusers)",
  usage: "stop-service",
  options: {},
  async run(ctx, { positionals }) {
    noArguments(positionals, "stop-service");
    await ctx.client().stopService();
    await ctx.print({ message: "service is stopping" });
    return 0;
  },
};
