/**
 * Every attribute of a job record, in Flux's words, as a two-column table whose cells are
 * updated in place when the record is fetched again.
 */
import type { Job } from "../../../sdk/index.js";
import { h, setText } from "../dom.js";
import { formatDuration, formatTime, formatTimeLimit, isActive, jobResultText, jobStateText, shellQuote } from "../format.js";

type Attribute = [label: string, key: string, value: (job: Job) => string];

const time = (t: number) => (t ? `${formatTime(t)} (${t.toFixed(3)})` : "");
const optional = (n: number | undefined) => (n === undefined ? "" : String(n));

const ATTRIBUTES: Attribute[] = [
  ["ID", "id", (j) => j.id],
  ["Name", "name", (j) => j.name],
  ["Owner", "owner", (j) => j.owner],
  ["User ID", "userid", (j) => String(j.userid)],
  ["State", "state", (j) => jobStateText(j)],
  ["Result", "result", (j) => jobResultText(j)],
  ["Status", "status", (j) => j.status],
  ["Command", "command", (j) => shellQuote(j.command)],
  ["Working directory", "cwd", (j) => j.cwd],
  ["Queue", "queue", (j) => j.queue || "(default)"],
  ["Urgency", "urgency", (j) => String(j.urgency)],
  ["Priority", "priority", (j) => String(j.priority)],
  ["Tasks", "ntasks", (j) => String(j.ntasks)],
  ["Cores", "ncores", (j) => String(j.ncores)],
  ["GPUs", "ngpus", (j) => String(j.ngpus)],
  ["Nodes", "nnodes", (j) => String(j.nnodes)],
  ["Node list", "nodelist", (j) => j.nodelist],
  ["Ranks", "ranks", (j) => j.ranks],
  ["Time limit", "duration", (j) => formatTimeLimit(j.duration)],
  ["Expiration", "expiration", (j) => time(j.expiration)],
  ["Runtime", "runtime", (j) => (j.tRun ? `${formatDuration(j.runtime)} (${j.runtime.toFixed(3)} s)` : "")],
  ["Return code", "returncode", (j) => optional(j.returncode)],
  ["Wait status", "waitstatus", (j) => optional(j.waitstatus)],
  ["Success", "success", (j) => (isActive(j) ? "" : String(j.success))],
  ["Exception", "exception", (j) => (j.exception?.occurred ? `${j.exception.type} (severity ${j.exception.severity})${j.exception.note ? `: ${j.exception.note}` : ""}` : "none")],
  ["Output truncated", "output_truncated", (j) => String(j.outputTruncated)],
  ["Submitted (t_submit)", "t_submit", (j) => time(j.tSubmit)],
  ["Depend (t_depend)", "t_depend", (j) => time(j.tDepend)],
  ["Priority (t_priority)", "t_priority", (j) => time(j.tPriority)],
  ["Sched (t_sched)", "t_sched", (j) => time(j.tSched)],
  ["Run (t_run)", "t_run", (j) => time(j.tRun)],
  ["Cleanup (t_cleanup)", "t_cleanup", (j) => time(j.tCleanup)],
  ["Inactive (t_inactive)", "t_inactive", (j) => time(j.tInactive)],
];

export interface AttributesView {
  readonly element: HTMLElement;
  update(job: Job): void;
}

export function createAttributesView(): AttributesView {
  const cells = new Map<string, HTMLTableCellElement>();
  const tbody = h("tbody");
  for (const [label, key] of ATTRIBUTES) {
    const td = h("td", { attrs: { "data-attribute": key } });
    cells.set(key, td);
    tbody.append(h("tr", null, h("th", { attrs: { scope: "row" } }, label), td));
  }
  const element = h(
    "section",
    { attrs: { "aria-labelledby": "attributes-heading" } },
    h("h2", { attrs: { id: "attributes-heading" } }, "Attributes"),
    h("div", { class: "table-scroll" }, h("table", { class: "table attributes", attrs: { "data-testid": "attributes" } }, tbody)),
  );
  return {
    element,
    update(job) {
      for (const [, key, value] of ATTRIBUTES) setText(cells.get(key)!, value(job));
    },
  };
}
