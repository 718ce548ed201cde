/**
 * Parsers for what the flux C subcommands print: `flux job list` / `list-ids` (one
 * job-list record per line) and `flux job eventlog -f json` (one RFC 18 entry per line).
 */
import { isJsonObject, parseExactJson, type ExactJson } from "./exact-json.js";
import type { JobListRecord, RawEvent } from "./flux-calls.js";

// job-list records start with the id (job_util.c job_to_json); any other number that could
// lose precision in JSON.parse has 16 digits or more.
const ID_FIRST = /^\{\s*"id"\s*:\s*(\d+)/;
const LONG_DIGITS = /\d{16,}/;

/** Splits `flux job list` output (one JSON object per line) into exact records. */
export function parseJobListLines(stdout: string): JobListRecord[] {
  const out: JobListRecord[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    // Fast path, still exact: the id is read as a bigint, the rest by JSON.parse when nothing
    // in it could be rounded. A 1,000-job listing parses several times faster this way.
    const head = ID_FIRST.exec(line);
    if (head && !LONG_DIGITS.test(line.slice(head[0].length))) {
      const rest = JSON.parse(`{"id":0${line.slice(head[0].length)}`) as { [key: string]: ExactJson };
      out.push({ ...rest, id: BigInt(head[1]!) });
      continue;
    }
    const record = parseExactJson(line);
    if (!isJsonObject(record)) throw new Error(`unexpected job-list record: ${line.slice(0, 200)}`);
    const id = record.id;
    out.push({ ...record, id: typeof id === "bigint" ? id : BigInt(id as number) });
  }
  return out;
}

/** Parses `flux job eventlog -f json` output (RFC 18 entries, one per line). */
export function parseEventlogLines(stdout: string): RawEvent[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map(parseEventLine);
}

export function parseEventLine(line: string): RawEvent {
  const entry = parseExactJson(line);
  if (!isJsonObject(entry) || typeof entry.name !== "string" || typeof entry.timestamp !== "number") {
    throw new Error(`unexpected eventlog entry: ${line.slice(0, 200)}`);
  }
  const event: RawEvent = { timestamp: entry.timestamp, name: entry.name };
  if (isJsonObject(entry.context)) event.context = entry.context;
  return event;
}
