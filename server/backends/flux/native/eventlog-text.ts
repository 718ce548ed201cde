/**
 * RFC 18 eventlog entries from what job-info sends: a whole eventlog as text (lookup) or
 * one line per watch response. Integers in context stay exact.
 */
import { isJsonObject, parseExactJson } from "../exact-json.js";
import type { RawEvent } from "../flux-calls.js";

/** One entry; throws on a line that is not an RFC 18 entry. */
export function parseEventlogLine(line: string): RawEvent {
  const entry = parseExactJson(line);
  if (!isJsonObject(entry) || typeof entry.name !== "string" || typeof entry.timestamp !== "number") {
    throw new Error(`unexpected eventlog entry: ${line.slice(0, 200)}`);
  }
  const event: RawEvent = { timestamp: entry.timestamp, name: entry.name };
  if (isJsonObject(entry.context)) event.context = entry.context;
  return event;
}

/** Every entry of an eventlog's text (one JSON object per line). */
export function parseEventlogText(text: string): RawEvent[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map(parseEventlogLine);
}
