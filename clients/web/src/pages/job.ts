/**
 * One job: its state, every attribute, the eventlog as a timeline (WatchJobEvents), the
 * output as it is written (StreamJobOutput), downloads, and a Cancel button with a
 * confirmation while the job is active. The record is fetched again after each event, so the
 * state shown changes as the job runs. Streams end when the reader leaves the page.
 */
import { Code, type Job } from "../../../sdk/index.js";
import { confirmDialog } from "../confirm-dialog.js";
import { h, setText } from "../dom.js";
import { errorBox, errorCode, errorMessage, isAbort } from "../errors.js";
import { badgeClass, isActive, jobResultText, jobStateText } from "../format.js";
import type { PageContext } from "../router.js";
import { createAttributesView } from "./job-attributes.js";
import { createEventsView } from "./job-events.js";
import { createOutputView } from "./job-output.js";

/** How often an active job's record is fetched again, for its runtime, between events. */
const ACTIVE_REFRESH_MS = 5000;
/** A broken stream is resumed this many times, waiting a little longer each time. */
const STREAM_RETRIES = 5;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

export async function renderJob(ctx: PageContext): Promise<void> {
  const { main, session, signal } = ctx;
  const { client } = session;
  const id = ctx.params[0] ?? "";
  ctx.setTitle(`Job ${id}`);
  let job: Job;
  try {
    job = await client.get(id, { signal });
  } catch (e) {
    if (isAbort(e, signal)) return;
    main.append(h("h1", null, errorCode(e) === Code.NotFound ? "Job not found" : `Job ${id}`), errorBox(e, "Cannot show this job"), h("p", null, h("a", { attrs: { href: "/jobs" } }, "Back to the jobs")));
    return;
  }

  const stateBadge = h("span", { class: "badge", attrs: { "data-testid": "job-state" } });
  const resultBadge = h("span", { class: "badge", attrs: { "data-testid": "job-result" } });
  const nameEl = h("p", { class: "lead job-name", attrs: { "data-testid": "job-name" } });
  const notice = h("div", { attrs: { "aria-live": "polite" } });
  const cancel = h("button", { class: "button danger", attrs: { type: "button" } }, "Cancel job…");
  const attributes = createAttributesView();
  const events = createEventsView();
  const output = createOutputView(job.id);

  function draw(j: Job): void {
    job = j;
    setText(stateBadge, jobStateText(j));
    stateBadge.className = `badge state-${jobStateText(j).toLowerCase()}`;
    const result = jobResultText(j);
    setText(resultBadge, result);
    resultBadge.hidden = result === "";
    resultBadge.className = `badge ${badgeClass(j)}`;
    setText(nameEl, j.name);
    cancel.hidden = !isActive(j);
    attributes.update(j);
  }

  let refreshing: Promise<void> | undefined;
  let again = false;
  function refresh(): void {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = client
      .get(id, { signal })
      .then(draw, (e: unknown) => {
        if (!isAbort(e, signal)) session.noteError(e);
      })
      .finally(() => {
        refreshing = undefined;
        if (again && !signal.aborted) {
          again = false;
          refresh();
        }
      });
  }

  cancel.addEventListener("click", async () => {
    const ok = await confirmDialog({
      title: `Cancel job ${job.id}?`,
      body: `"${job.name}" will be stopped: a pending job never runs, a running job's tasks are terminated. This cannot be undone.`,
      confirmText: "Cancel the job",
      cancelText: "Keep it",
    });
    if (!ok || signal.aborted) return;
    cancel.disabled = true;
    notice.replaceChildren(h("p", { class: "alert info" }, "Canceling…"));
    try {
      await client.cancel(job.id, "canceled from the web interface", { signal });
      notice.replaceChildren(h("p", { class: "alert info" }, "Cancel requested."));
    } catch (e) {
      if (isAbort(e, signal)) return;
      session.noteError(e);
      notice.replaceChildren(errorBox(e, "Cannot cancel"));
    } finally {
      cancel.disabled = false;
      refresh();
    }
  });

  draw(job);
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("div", null, h("h1", null, "Job ", h("span", { class: "job-id" }, job.id)), nameEl),
      h("div", { class: "head-actions" }, stateBadge, resultBadge, cancel),
    ),
    notice,
    output.element,
    h("div", { class: "columns" }, attributes.element, events.element),
  );

  const timer = setInterval(() => {
    if (isActive(job) && document.visibilityState === "visible") refresh();
  }, ACTIVE_REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer));

  void followEvents();
  void followOutput();

  async function followEvents(): Promise<void> {
    let seen = 0;
    for (let attempt = 0; ; attempt++) {
      let skip = seen;
      try {
        // A resumed watch replays the eventlog from the start: skip what is already shown.
        for await (const event of client.watchEvents(id, { signal })) {
          if (skip > 0) {
            skip--;
            continue;
          }
          seen++;
          events.add(event);
          refresh();
        }
        events.done("The eventlog is complete.");
        refresh();
        return;
      } catch (e) {
        if (isAbort(e, signal)) return;
        session.noteError(e);
        if (attempt >= STREAM_RETRIES || errorCode(e) === Code.PermissionDenied || errorCode(e) === Code.Unauthenticated) {
          events.done(`Stopped following the eventlog: ${errorMessage(e)}`);
          return;
        }
        events.done(`Reconnecting (${errorMessage(e)})…`);
        await sleep(500 * 2 ** attempt, signal);
      }
    }
  }

  async function followOutput(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        for await (const item of client.streamOutput(id, { offset: output.nextOffset }, { signal })) {
          output.problem(undefined);
          if (item.case === "chunk") output.chunk(item.value);
          else if (item.case === "status") output.status(item.value);
          else if (item.case === "end") output.end(item.value.exitCode, item.value.truncated);
        }
        return;
      } catch (e) {
        if (isAbort(e, signal)) return;
        session.noteError(e);
        if (attempt >= STREAM_RETRIES || errorCode(e) === Code.PermissionDenied || errorCode(e) === Code.Unauthenticated) {
          output.problem(`Stopped following the output: ${errorMessage(e)}`);
          return;
        }
        output.problem(`Reconnecting to the output (${errorMessage(e)})…`);
        await sleep(500 * 2 ** attempt, signal);
      }
    }
  }
}
