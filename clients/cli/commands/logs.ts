/**
 * `logs ID [--stream]`: the job's output, stdout to stdout and stderr to stderr, byte for byte
 * (0.2 stripped each line). --stream follows it until the job's output ends. With --json:
 * one object, or one line per item when streaming.
 */
import type { Command, CliContext } from "../context.js";
import { chunkToJson } from "../output.js";
import { writeOutputItem } from "./follow-job.js";
import { oneId } from "./job-commands.js";

async function snapshot(ctx: CliContext, id: string): Promise<void> {
  const chunks = [];
  let offset = 0n;
  let complete = false;
  let truncated = false;
  for (;;) {
    const page = await ctx.client().output(id, { offset });
    truncated ||= page.truncated;
    complete = page.complete;
    if (ctx.flags.json) chunks.push(...page.chunks.map(chunkToJson));
    else for (const chunk of page.chunks) await writeOutputItem(ctx, { case: "chunk", value: chunk });
    if (page.complete || page.chunks.length === 0 || page.nextOffset === offset) break;
    offset = page.nextOffset;
  }
  if (ctx.flags.json) await ctx.print({ id, chunks, complete, truncated });
  else if (truncated) await ctx.note("flux-restful-cli: the job wrote more output than the server keeps; some was dropped");
}

async function stream(ctx: CliContext, id: string): Promise<void> {
  for await (const item of ctx.client().streamOutput(id)) {
    if (!ctx.flags.json) await writeOutputItem(ctx, item);
    else if (item.case === "chunk") await ctx.print({ chunk: chunkToJson(item.value) });
    else if (item.case === "status") await ctx.print({ status: item.value });
    else await ctx.print({ end: { exit_code: item.value.exitCode, truncated: item.value.truncated } });
  }
}

export const logsCommand: Command = {
  summary: "print a job's output (--stream: follow it to the end)",
  usage: "logs ID [--stream]",
  options: { stream: { type: "boolean" } },
  async run(ctx, { positionals, options }) {
    const id = oneId(positionals, this.usage);
    if (options.stream === true) await stream(ctx, id);
    else await snapshot(ctx, id);
    return 0;
  },
};

