/**
 * The rows of the jobs table, updated in place: a refresh changes the text of cells that
 * changed and leaves the rest (and the reader's focus and selection) alone.
 */
import type { Job } from "../../../sdk/index.js";
import { h, setText } from "../dom.js";
import { badgeClass, formatDuration, formatTime, jobResultText, jobStateText } from "../format.js";

/** A column: its header, and the ListJobs order_by key it sorts by. */
export interface Column {
  key: string;
  label: string;
  orderBy: string;
  numeric?: boolean;
}

export const COLUMNS: Column[] = [
  { key: "id", label: "ID", orderBy: "id" },
  { key: "name", label: "Name", orderBy: "name" },
  { key: "owner", label: "Owner", orderBy: "owner" },
  { key: "state", label: "State", orderBy: "state" },
  { key: "result", label: "Result", orderBy: "result" },
  { key: "returncode", label: "Return code", orderBy: "returncode", numeric: true },
  { key: "runtime", label: "Runtime", orderBy: "runtime", numeric: true },
  { key: "submitted", label: "Submitted", orderBy: "t_submit" },
];

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<string, HTMLTableCellElement>;
  badges: { state: HTMLElement; result: HTMLElement };
}

export const jobPath = (id: string) => `/job/${encodeURIComponent(id)}`;

function createRow(job: Job): Row {
  const cells: Record<string, HTMLTableCellElement> = {};
  const tr = h("tr", { attrs: { "data-job-id": job.id } });
  for (const column of COLUMNS) {
    const cell = column.key === "id" ? h("th", { attrs: { scope: "row" } }) : h("td", { class: column.numeric ? "num" : undefined });
    cell.dataset.column = column.key;
    cells[column.key] = cell;
    tr.append(cell);
  }
  cells.id!.append(h("a", { attrs: { href: jobPath(job.id) } }, job.id));
  const state = h("span", { class: "badge" });
  const result = h("span", { class: "badge" });
  cells.state!.append(state);
  cells.result!.append(result);
  return { tr, cells, badges: { state, result } };
}

function fillRow(row: Row, job: Job): void {
  setText(row.cells.name!, job.name);
  setText(row.cells.owner!, job.owner);
  setText(row.badges.state, jobStateText(job));
  row.badges.state.className = `badge state-${jobStateText(job).toLowerCase()}`;
  const result = jobResultText(job);
  setText(row.badges.result, result);
  row.badges.result.className = result ? `badge ${badgeClass(job)}` : "badge empty";
  setText(row.cells.returncode!, job.returncode === undefined ? "" : String(job.returncode));
  setText(row.cells.runtime!, job.tRun ? formatDuration(job.runtime) : "");
  setText(row.cells.submitted!, formatTime(job.tSubmit));
  row.cells.submitted!.title = new Date(job.tSubmit * 1000).toISOString();
}

export interface JobRows {
  readonly tbody: HTMLTableSectionElement;
  /** Shows these jobs in this order, reusing the rows of jobs already shown. */
  show(jobs: Job[]): void;
}

export function createJobRows(): JobRows {
  const tbody = h("tbody");
  let rows = new Map<string, Row>();
  const empty = h("tr", { class: "empty" }, h("td", { attrs: { colspan: COLUMNS.length } }, "No jobs match."));
  return {
    tbody,
    show(jobs) {
      const next = new Map<string, Row>();
      for (const job of jobs) {
        const row = rows.get(job.id) ?? createRow(job);
        fillRow(row, job);
        next.set(job.id, row);
      }
      const wanted = jobs.length ? [...next.values()].map((r) => r.tr) : [empty];
      const same = wanted.length === tbody.children.length && wanted.every((tr, i) => tbody.children[i] === tr);
      // Moving a row that holds the focus would drop it, so rows are only moved when the order changed.
      if (!same) tbody.replaceChildren(...wanted);
      rows = next;
    },
  };
}
