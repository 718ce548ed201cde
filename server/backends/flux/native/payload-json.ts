/**
 * Message payloads. A JSON payload is a JSON object followed by one NUL byte (the C
 * side refuses one without it, EPROTO); an error payload is NUL-terminated text. Job
 * ids pass 2^53 after about six days of instance uptime, so numbers are written and
 * read exactly: bigint out, bigint back (../exact-json.ts).
 */
import { isJsonObject, parseExactJson, type ExactJson } from "../exact-json.js";
import { FluxProtocolError } from "./message-codec.js";

/** JSON text of a value with bigints written as integers; undefined object members are left out. */
export function stringifyExact(value: unknown): string {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} as JSON`);
      return JSON.stringify(value);
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : stringifyExact(v))).join(",")}]`;
      const members: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined) members.push(`${JSON.stringify(k)}:${stringifyExact(v)}`);
      }
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot encode a ${typeof value} as JSON`);
  }
}

/** The payload bytes of a JSON object: its text and the trailing NUL. */
export function encodeJsonPayload(value: Record<string, unknown>): Buffer {
  return Buffer.from(stringifyExact(value) + "\0", "utf8");
}

function withoutNul(payload: Buffer): Buffer {
  return payload.length > 0 && payload[payload.length - 1] === 0 ? payload.subarray(0, payload.length - 1) : payload;
}

/** What a marked integer decodes to; written into the text as the JSON escape BIG_ESCAPED. */
const BIG = "\u0000bigint:";
const BIG_ESCAPED = "\\u0000bigint:";
const LONG_DIGITS = /\d{16}/;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** An integer literal of 16+ digits standing on its own (not part of a fraction or an exponent). */
const LONG_INTEGER = /(?<![\w.+-])-?\d{16,}(?![\d.eE])/g;

/**
 * JSON.parse with integers outside Number's safe range kept as bigint, like
 * parseExactJson but near JSON.parse's speed (a 1,000-job listing: ~10 ms instead of
 * ~50): integer literals of 16 or more digits outside strings are quoted with a marker,
 * parsed, and turned back. Text that already holds the marker's escape takes the exact
 * parser, so no string can be mistaken for a number.
 */
export function parseJsonExactFast(text: string): ExactJson {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text) as ExactJson;
  if (text.includes("\\u0000")) return parseExactJson(text);
  let out = "";
  let last = 0;
  let marked = false;
  let pos = 0;
  while (pos < text.length) {
    // [pos, quote) is outside any string: look for long integers there.
    let quote = text.indexOf('"', pos);
    if (quote < 0) quote = text.length;
    if (quote - pos >= 16) {
      const segment = text.slice(pos, quote);
      LONG_INTEGER.lastIndex = 0;
      for (let m = LONG_INTEGER.exec(segment); m !== null; m = LONG_INTEGER.exec(segment)) {
        const at = pos + m.index;
        out += `${text.slice(last, at)}"${BIG_ESCAPED}${m[0]}"`;
        last = at + m[0].length;
        marked = true;
      }
    }
    if (quote >= text.length) break;
    // Skip the string: its closing quote is the first one not escaped by an odd run of backslashes.
    let end = quote + 1;
    for (;;) {
      end = text.indexOf('"', end);
      if (end < 0) {
        end = text.length;
        break;
      }
      let slashes = 0;
      while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
      if (slashes % 2 === 0) break;
      end++;
    }
    pos = end + 1;
  }
  if (!marked) return JSON.parse(text) as ExactJson;
  return unmark(JSON.parse(out + text.slice(last)) as ExactJson);
}

/** Turns marked strings back into integers, in place (faster than a JSON.parse reviver). */
function unmark(v: ExactJson): ExactJson {
  if (typeof v === "string") {
    if (!v.startsWith(BIG)) return v;
    const n = BigInt(v.slice(BIG.length));
    return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = unmark(v[i]!);
  } else if (v !== null && typeof v === "object") {
    for (const k in v) v[k] = unmark(v[k]!);
  }
  return v;
}

/** The JSON object of a payload; FluxProtocolError when it is not one. */
export function decodeJsonPayload(payload: Buffer): { [key: string]: ExactJson } {
  let value: ExactJson;
  try {
    value = parseJsonExactFast(withoutNul(payload).toString("utf8"));
  } catch (e) {
    throw new FluxProtocolError(`payload is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isJsonObject(value)) throw new FluxProtocolError("payload is not a JSON object");
  return value;
}

/** The text of an error response's payload ("" when there is none). */
export function decodeErrorText(payload: Buffer | undefined): string {
  return payload === undefined ? "" : withoutNul(payload).toString("utf8");
}
