/**
 * A JSON parser that keeps integers exact. Flux prints job ids as JSON numbers
 * (`flux job list`: `{"id": 492948160512, ...}`) and they pass 2^53 after about six
 * days of instance uptime (RFC 19), where JSON.parse would silently round them.
 * Integers outside Number's safe range come back as bigint; everything else is
 * what JSON.parse would return.
 */

export type ExactJson = null | boolean | number | bigint | string | ExactJson[] | { [key: string]: ExactJson };

/** Thrown for text that is not JSON; `position` is the offending character offset. */
export class ExactJsonError extends Error {
  override name = "ExactJsonError" as const;
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Parses one JSON document exactly; throws ExactJsonError on malformed input. */
export function parseExactJson(text: string): ExactJson {
  const { values, end } = parseExactJsonSequence(text, 1);
  if (values.length !== 1 || end !== text.length) {
    throw new ExactJsonError(`invalid JSON: ${values.length === 0 ? "no value" : "trailing characters"} at offset ${end}`, end);
  }
  return values[0]!;
}

/**
 * Parses JSON documents that follow each other, separated by whitespace (as `flux kvs get`
 * prints one value per key), up to `max` of them. Returns the values and where parsing
 * stopped; throws ExactJsonError when a document is malformed.
 */
export function parseExactJsonSequence(text: string, max = Infinity): { values: ExactJson[]; end: number } {
  let pos = 0;

  const fail = (what: string): never => {
    throw new ExactJsonError(`invalid JSON: ${what} at offset ${pos}`, pos);
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.exec(text);
    pos = WHITESPACE.lastIndex;
  };

  const parseString = (): string => {
    const start = pos; // at the opening quote
    let end = start + 1;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(end);
      if (Number.isNaN(c)) {
        pos = end;
        fail("unterminated string");
      }
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        end += 2;
        continue;
      }
      if (c < 0x20) {
        pos = end;
        fail("control character in string");
      }
      end += 1;
    }
    pos = end + 1;
    // JSON.parse of the exact slice decodes escapes (and rejects bad ones) natively.
    return escaped ? (JSON.parse(text.slice(start, pos)) as string) : text.slice(start + 1, end);
  };

  const parseNumber = (): number | bigint => {
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) return fail("unexpected character");
    pos = NUMBER.lastIndex;
    const literal = m[0];
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(literal);
      return Number.isSafeInteger(n) ? n : BigInt(literal);
    }
    return Number(literal);
  };

  const parseValue = (): ExactJson => {
    skip();
    const c = text[pos];
    if (c === "{") {
      pos += 1;
      const out: { [key: string]: ExactJson } = {};
      skip();
      if (text[pos] === "}") {
        pos += 1;
        return out;
      }
      for (;;) {
        skip();
        if (text[pos] !== '"') fail("expected a string key");
        const key = parseString();
        skip();
        if (text[pos] !== ":") fail("expected ':'");
        pos += 1;
        const value = parseValue();
        // Own data property even for "__proto__", as JSON.parse does.
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        skip();
        if (text[pos] === ",") {
          pos += 1;
          continue;
        }
        if (text[pos] === "}") {
          pos += 1;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      pos += 1;
      const out: ExactJson[] = [];
      skip();
      if (text[pos] === "]") {
        pos += 1;
        return out;
      }
      for (;;) {
        out.push(parseValue());
        skip();
        if (text[pos] === ",") {
          pos += 1;
          continue;
        }
        if (text[pos] === "]") {
          pos += 1;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith("true", pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith("false", pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith("null", pos)) {
      pos += 4;
      return null;
    }
    return parseNumber();
  };

  const values: ExactJson[] = [];
  skip();
  while (pos < text.length && values.length < max) {
    values.push(parseValue());
    skip();
  }
  if (values.length === 0 && max === 1) fail("no value");
  return { values, end: pos };
}

/** A plain object (not an array, not null), for narrowing parsed JSON. */
export function isJsonObject(v: ExactJson | undefined): v is { [key: string]: ExactJson } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Copies parsed JSON into values a protobuf Struct can carry: bigints become
 * decimal strings (a rounded number would be wrong, a string is at least exact).
 */
export function toPlainJson(v: ExactJson): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(toPlainJson);
  if (isJsonObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(v)) {
      Object.defineProperty(out, k, { value: toPlainJson(value), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}
