/**
 * Reads the text of a flat Python dict of strings, e.g. `{'FOO': 'bar'}`: what httpx sends
 * for a dict-valued query or form field (it applies str() to the dict). The 0.2 client
 * sends `envars` that way, and 0.2 silently dropped it; we read it instead.
 * Keys must be strings; values may be strings, integers, True, False or None (as text).
 */

export class PythonDictError extends Error {
  override name = "PythonDictError" as const;
}

const ESCAPES: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r", "0": "\0" };

export function parsePythonDict(text: string): Record<string, string> {
  let pos = 0;
  const fail = (what: string): never => {
    throw new PythonDictError(`${what} at offset ${pos}`);
  };
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (c: string) => {
    skip();
    if (text[pos] !== c) fail(`expected "${c}"`);
    pos++;
  };
  const readString = (): string => {
    const quote = text[pos];
    if (quote !== "'" && quote !== '"') return fail("expected a quoted string");
    pos++;
    let out = "";
    for (;;) {
      const c = text[pos];
      if (c === undefined) return fail("unterminated string");
      pos++;
      if (c === quote) return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = text[pos++];
      if (e === undefined) return fail("unterminated string");
      if (e === "x" || e === "u" || e === "U") {
        const len = e === "x" ? 2 : e === "u" ? 4 : 8;
        const hex = text.slice(pos, pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail("bad escape");
        out += String.fromCodePoint(parseInt(hex, 16));
        pos += len;
      } else if (ESCAPES[e] !== undefined) out += ESCAPES[e];
      else out += `\\${e}`; // Python keeps unknown escapes as written
    }
  };
  const readValue = (): string => {
    skip();
    if (text[pos] === "'" || text[pos] === '"') return readString();
    const m = /^(-?\d+|True|False|None)/.exec(text.slice(pos));
    if (!m) return fail("expected a string value");
    pos += m[0].length;
    return m[0];
  };

  const out = new Map<string, string>();
  expect("{");
  skip();
  if (text[pos] === "}") pos++;
  else {
    for (;;) {
      skip();
      const key = readString();
      expect(":");
      out.set(key, readValue());
      skip();
      if (text[pos] === ",") {
        pos++;
        continue;
      }
      expect("}");
      break;
    }
  }
  skip();
  if (pos !== text.length) fail("unexpected text after the dict");
  return Object.fromEntries(out);
}
