/**
 * The jobs page: a table with search, a state filter, sorting and paging, all done by the
 * server (ListJobs search, state and result masks, order_by, page_token), so a page costs the
 * same with ten jobs or ten thousand. The page shown is fetched again every few seconds while
 * the tab is visible, so states change in place as jobs run.
 */
import { parseJobFilter, type ListJobsResponse } from "../../../sdk/index.js";
import { h, setText } from "../dom.js";
import { errorBox, errorMessage, isAbort } from "../errors.js";
import type { PageContext } from "../router.js";
import { COLUMNS, createJobRows } from "./jobs-table.js";

/** How often the page shown is fetched again. */
export const JOBS_REFRESH_MS = 2000;
const PAGE_SIZES = [25, 50, 100, 250];
const FILTERS: [string, string][] = [
  ["", "All jobs"],
  ["active", "Active (pending or running)"],
  ["pending", "Pending"],
  ["running", "Running"],
  ["inactive", "Inactive"],
  ["completed", "Completed"],
  ["failed", "Failed"],
  ["canceled", "Canceled"],
  ["timeout", "Timeout"],
];

interface Query {
  search: string;
  filter: string;
  orderBy: string;
  descending: boolean;
  pageSize: number;
}

function readQuery(url: URL): Query {
  const p = url.searchParams;
  const size = Number(p.get("size"));
  const filter = p.get("filter") ?? "";
  const order = p.get("order") ?? "t_submit";
  return {
    search: p.get("q") ?? "",
    filter: FILTERS.some(([v]) => v === filter) ? filter : "",
    orderBy: COLUMNS.some((c) => c.orderBy === order) ? order : "t_submit",
    descending: p.get("dir") !== "asc",
    pageSize: PAGE_SIZES.includes(size) ? size : 50,
  };
}

function writeQuery(q: Query): void {
  const p = new URLSearchParams();
  if (q.search) p.set("q", q.search);
  if (q.filter) p.set("filter", q.filter);
  if (q.orderBy !== "t_submit" || !q.descending) p.set("order", q.orderBy);
  if (!q.descending) p.set("dir", "asc");
  if (q.pageSize !== 50) p.set("size", String(q.pageSize));
  const search = p.toString();
  history.replaceState(null, "", `/jobs${search ? `?${search}` : ""}`);
}

export function renderJobs(ctx: PageContext): void {
  const { main, session, signal } = ctx;
  ctx.setTitle("Jobs");
  const query = readQuery(ctx.url);
  // tokens[i] fetches page i; the first page needs none.
  let tokens = [""];
  let page = 0;
  let last: ListJobsResponse | undefined;
  let inflight: AbortController | undefined;
  let generation = 0;

  const rows = createJobRows();
  const status = h("p", { class: "status", attrs: { "data-testid": "jobs-status", "aria-live": "polite" } });
  const problem = h("div");
  const headerCells = COLUMNS.map((column) => {
    const button = h("button", { class: "sort", attrs: { type: "button" } }, column.label);
    const th = h("th", { class: column.numeric ? "num" : undefined, attrs: { scope: "col", "data-column": column.key } }, button);
    button.addEventListener("click", () => {
      if (query.orderBy === column.orderBy) query.descending = !query.descending;
      else {
        query.orderBy = column.orderBy;
        query.descending = column.orderBy === "t_submit" || column.orderBy === "runtime";
      }
      restart();
    });
    return { th, column };
  });
  const prev = h("button", { class: "button secondary", attrs: { type: "button" } }, "← Newer page");
  const next = h("button", { class: "button secondary", attrs: { type: "button" } }, "Next page →");
  const first = h("button", { class: "button secondary", attrs: { type: "button" } }, "First page");
  prev.addEventListener("click", () => go(page - 1));
  next.addEventListener("click", () => go(page + 1));
  first.addEventListener("click", () => go(0));

  const searchInput = h("input", { attrs: { id: "job-search", type: "search", name: "q", value: query.search, placeholder: "id, name, owner, command…", autocomplete: "off" } });
  const filterSelect = h("select", { attrs: { id: "job-filter", name: "filter" } }, ...FILTERS.map(([v, label]) => h("option", { attrs: { value: v, selected: v === query.filter } }, label)));
  const sizeSelect = h("select", { attrs: { id: "job-page-size", name: "size" } }, ...PAGE_SIZES.map((n) => h("option", { attrs: { value: n, selected: n === query.pageSize } }, String(n))));
  let debounce: ReturnType<typeof setTimeout> | undefined;
  searchInput.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      query.search = searchInput.value.trim();
      restart();
    }, 250);
  });
  // Enter in the search box searches at once.
  function searchNow(event: Event): void {
    event.preventDefault();
    clearTimeout(debounce);
    query.search = searchInput.value.trim();
    restart();
  }
  filterSelect.addEventListener("change", () => {
    query.filter = filterSelect.value;
    restart();
  });
  sizeSelect.addEventListener("change", () => {
    query.pageSize = Number(sizeSelect.value);
    restart();
  });
  const controls = h(
    "form",
    { class: "controls", attrs: { role: "search", "aria-label": "Filter jobs" }, on: { submit: searchNow } },
    h("div", { class: "field inline" }, h("label", { attrs: { for: "job-search" } }, "Search"), searchInput),
    h("div", { class: "field inline" }, h("label", { attrs: { for: "job-filter" } }, "Show"), filterSelect),
    h("div", { class: "field inline" }, h("label", { attrs: { for: "job-page-size" } }, "Per page"), sizeSelect),
  );

  main.append(
    h("div", { class: "page-head" }, h("h1", null, "Jobs"), h("a", { class: "button", attrs: { href: "/jobs/submit" } }, "Submit a job")),
    controls,
    status,
    problem,
    h(
      "div",
      { class: "table-scroll" },
      h("table", { class: "table jobs", attrs: { "data-testid": "jobs-table" } }, h("thead", null, h("tr", null, ...headerCells.map((c) => c.th))), rows.tbody),
    ),
    h("div", { class: "pager" }, first, prev, next),
  );

  function drawHeaders(): void {
    for (const { th, column } of headerCells) {
      const sorted = column.orderBy === query.orderBy;
      th.setAttribute("aria-sort", sorted ? (query.descending ? "descending" : "ascending") : "none");
      th.querySelector("button")!.dataset.direction = sorted ? (query.descending ? "desc" : "asc") : "";
    }
  }

  function drawPage(res: ListJobsResponse): void {
    rows.show(res.jobs);
    const start = page * query.pageSize;
    setText(
      status,
      res.jobs.length === 0
        ? `No jobs${query.search || query.filter ? " match" : " yet"}.`
        : `Jobs ${start + 1}–${start + res.jobs.length} of ${res.totalSize}.`,
    );
    prev.disabled = page === 0;
    first.disabled = page === 0;
    next.disabled = res.nextPageToken === "";
  }

  async function load(): Promise<void> {
    inflight?.abort();
    const controller = new AbortController();
    inflight = controller;
    const mine = generation;
    const stop = () => controller.abort();
    signal.addEventListener("abort", stop);
    try {
      const masks = query.filter ? parseJobFilter(query.filter) : { stateMask: 0, resultMask: 0 };
      const res = await session.client.jobs.listJobs(
        { ...masks, search: query.search, orderBy: `${query.orderBy} ${query.descending ? "desc" : "asc"}`, pageSize: query.pageSize, pageToken: tokens[page] },
        { signal: controller.signal },
      );
      if (mine !== generation || signal.aborted) return;
      last = res;
      tokens[page + 1] = res.nextPageToken;
      problem.replaceChildren();
      drawPage(res);
    } catch (e) {
      if (isAbort(e, controller.signal)) return;
      session.noteError(e);
      problem.replaceChildren(last ? h("p", { class: "alert warning", attrs: { role: "status" } }, `Live updates paused: ${errorMessage(e)}`) : errorBox(e, "Cannot list jobs"));
    } finally {
      signal.removeEventListener("abort", stop);
      if (inflight === controller) inflight = undefined;
    }
  }

  function go(target: number): void {
    if (target < 0 || (target > page && !last?.nextPageToken)) return;
    page = target;
    generation++;
    void load();
  }

  function restart(): void {
    tokens = [""];
    page = 0;
    last = undefined;
    generation++;
    writeQuery(query);
    drawHeaders();
    void load();
  }

  drawHeaders();
  void load();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible" && !inflight) void load();
  }, JOBS_REFRESH_MS);
  signal.addEventListener("abort", () => {
    clearInterval(timer);
    clearTimeout(debounce);
    inflight?.abort();
  });
}
