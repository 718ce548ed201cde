/**
 * Follows a submitted job the way `flux run` does: its stdout and stderr go to ours byte for
 * byte, status lines (e.g. "flux-job: task(s) exited with exit code 3") go to stderr, and the
 * job's exit code is returned. On a terminal a status line shows the job's state until its
 * output starts. The first Ctrl-C cancels the job; a second one detaches.
 */
import { OutputStream, stateName, type OutputItem } from "../../sdk/index.js";
import { CliError } from "../cli-error.js";
import type { CliContext } from "../context.js";

const CLEAR_LINE = "\r\x1b[K";

/** Writes output items to the CLI's streams; returns the exit code from the end item, if any. */
export async function writeOutputItem(ctx: CliContext, item: OutputItem): Promise<number | undefined> {
  switch (item.case) {
    case "chunk":
      if (item.value.stream === OutputStream.STDERR) await ctx.writeErr(item.value.data);
      else await ctx.write(item.value.data);
      return undefined;
    case "status":
      await ctx.note(item.value);
      return undefined;
    case "end":
      if (item.value.truncated) await ctx.note("flux-restful-cli: the job wrote more output than the server keeps; some was dropped");
      return item.value.exitCode;
  }
}

/** Shows "<id> <STATUS>" on a terminal's stderr, in place, until stop() (at the first output). */
function startLiveStatus(ctx: CliContext, id: string) {
  const enabled = ctx.io.stderr.isTTY === true && !ctx.flags.quiet;
  const abort = new AbortController();
  let shown = false;
  let active = enabled;
  if (enabled) {
    void (async () => {
      const started = Date.now();
      for await (const _event of ctx.client().watchEvents(id, { signal: abort.signal })) {
        const job = await ctx.client().get(id, { signal: abort.signal });
        if (!active) break;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        await ctx.writeErr(`${CLEAR_LINE}${id} ${job.status || stateName(job.state)} ${seconds}s`);
        shown = true;
      }
    })().catch(() => {
      // The status line is a convenience: losing it must not fail the command.
    });
  }
  return {
    async stop() {
      if (!active) return;
      active = false;
      abort.abort();
      if (shown) await ctx.writeErr(CLEAR_LINE);
    },
  };
}

export async function followJob(ctx: CliContext, id: string): Promise<number> {
  const live = startLiveStatus(ctx, id);
  const detach = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      void ctx.note(`flux-restful-cli: cancelling job ${id} (Ctrl-C again to detach)`);
      ctx
        .client()
        .cancel(id, "interrupted from flux-restful-cli")
        .catch((e: unknown) => ctx.note(`flux-restful-cli: cannot cancel job ${id}: ${(e as Error).message}`));
    } else {
      detach.abort();
    }
  };
  process.on("SIGINT", onInterrupt);
  try {
    for await (const item of ctx.client().streamOutput(id, {}, { signal: detach.signal })) {
      if (item.case !== "end") await live.stop();
      const exitCode = await writeOutputItem(ctx, item);
      if (exitCode !== undefined) return exitCode;
    }
    throw new CliError(`the output stream of job ${id} ended before the job did`);
  } catch (e) {
    if (detach.signal.aborted) {
      await ctx.note(`flux-restful-cli: detached from job ${id}`);
      return 130;
    }
    throw e;
  } finally {
    process.off("SIGINT", onInterrupt);
    await live.stop();
  }
}
