/**
 * Filters, orders and pages job records in memory. job-list hands over every job in
 * one call; doing the rest here keeps ListJobs at one process per request and gives
 * the same answers as the local backend. Pages are keyset-based (the last row's sort
 * value and id), so jobs that arrive between pages do not shift later pages.
 */
import { InvalidJobRequestError } from "../backend-errors.js";
import { JobResultBit, JobStateBit, type JobRecord, type ListQuery, type ListResult, type OrderColumn } from "../backend.js";
import { formatJobId } from "../jobid.js";

type SortValue = number | string | null;

const STATE_NAMES = new Map<number, string>(Object.entries(JobStateBit).map(([k, v]) => [v, k]));
const RESULT_NAMES = new Map<number, string>(Object.entries(JobResultBit).map(([k, v]) => [v, k]));

function statusOf(j: JobRecord): string {
  return (j.state === JobStateBit.INACTIVE ? RESULT_NAMES.get(j.result) : STATE_NAMES.get(j.state)) ?? "";
}

function runtimeOf(j: JobRecord, now: number): number {
  if (j.t_run <= 0) return 0;
  return Math.max(0, (j.t_cleanup > 0 ? j.t_cleanup : now) - j.t_run);
}

function sortValue(j: JobRecord, column: OrderColumn, now: number): SortValue {
  switch (column) {
    case "t_submit":
      return j.t_submit;
    case "id":
      return null; // the id tie-breaker alone orders these
    case "name":
      return j.name;
    case "owner":
      return j.owner;
    case "state":
      return j.state;
    case "result":
      return j.result;
    case "returncode":
      return j.returncode ?? null;
    case "runtime":
      return runtimeOf(j, now);
  }
}

function compareValues(a: SortValue, b: SortValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}

function compareKeys(a: [SortValue, bigint], b: [SortValue, bigint]): number {
  const c = compareValues(a[0], b[0]);
  if (c !== 0) return c;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

function matches(j: JobRecord, q: ListQuery): boolean {
  if (q.owner !== undefined && j.owner !== q.owner) return false;
  if (q.stateMask !== undefined && (j.state & q.stateMask) === 0) return false;
  if (q.resultMask !== undefined && (j.state !== JobStateBit.INACTIVE || (j.result & q.resultMask) === 0)) return false;
  if (q.name !== undefined && j.name !== q.name) return false;
  if (q.since !== undefined && j.t_submit < q.since) return false;
  if (q.search !== undefined && q.search !== "") {
    const needle = q.search.toLowerCase();
    const haystack = [formatJobId(j.id), j.id.toString(), j.name, j.owner, j.command.join(" "), statusOf(j), j.queue];
    if (!haystack.some((s) => s.toLowerCase().includes(needle))) return false;
  }
  return true;
}

/** Identifies the filters and order a token belongs to, so a token is not reused for another query. */
function fingerprint(q: ListQuery): string {
  return JSON.stringify([q.owner, q.stateMask, q.resultMask, q.name, q.since, q.search, q.orderBy.column, q.orderBy.descending]);
}

interface PageToken {
  v: SortValue;
  id: string;
  f: string;
}

function decodeToken(token: string, q: ListQuery): [SortValue, bigint] | undefined {
  if (token === "") return undefined;
  try {
    const t = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as PageToken;
    if (t.f === fingerprint(q) && /^\d+$/.test(t.id) && (t.v === null || ["number", "string"].includes(typeof t.v))) {
      return [t.v, BigInt(t.id)];
    }
  } catch {
    // fall through: not one of ours
  }
  throw new InvalidJobRequestError("page_token", `invalid page token "${token.slice(0, 64)}" for this query`);
}

/** Applies a ListQuery to all jobs. */
export function applyListQuery(jobs: readonly JobRecord[], q: ListQuery, now = Date.now() / 1000): ListResult {
  const { column, descending } = q.orderBy;
  const dir = descending ? -1 : 1;
  const keyed = jobs.filter((j) => matches(j, q)).map((j) => ({ j, key: [sortValue(j, column, now), j.id] as [SortValue, bigint] }));
  keyed.sort((a, b) => dir * compareKeys(a.key, b.key));
  const after = decodeToken(q.pageToken, q);
  const start = after === undefined ? 0 : keyed.findIndex((k) => dir * compareKeys(k.key, after) > 0);
  const from = start < 0 ? keyed.length : start;
  const page = keyed.slice(from, from + q.pageSize);
  const last = page[page.length - 1];
  const more = from + page.length < keyed.length;
  const nextPageToken =
    more && last
      ? Buffer.from(JSON.stringify({ v: last.key[0], id: last.key[1].toString(), f: fingerprint(q) } satisfies PageToken)).toString(
          "base64url",
        )
      : "";
  return { jobs: page.map((k) => k.j), nextPageToken, totalSize: keyed.length };
}
