/**
 * Request and response plumbing for the legacy routes: bounded body reading, query
 * parsing, and JSON answers written with exact integers.
 */
import type http from "node:http";
import type { HttpRequest, HttpResponse } from "../http/http-route.js";
import { stringifyExact, type ExactJsonValue } from "./exact-json.js";
import { RestInputError } from "./legacy-errors.js";

/** Writes a JSON body (bigints as exact integers) with the given status. */
export function sendExactJson(
  res: HttpResponse,
  status: number,
  body: ExactJsonValue,
  headers: Record<string, string | string[]> = {},
): void {
  const text = stringifyExact(body);
  (res as http.ServerResponse).writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** The first value of a request header. */
export function headerOf(req: HttpRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads the whole body, refusing more than maxBytes (413) before buffering it all. */
export async function readBody(req: HttpRequest, maxBytes: number): Promise<Buffer> {
  const declared = Number(headerOf(req, "content-length") ?? "0");
  if (declared > maxBytes) throw new RestInputError(`body: is too large (more than ${maxBytes} bytes)`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > maxBytes) throw new RestInputError(`body: is too large (more than ${maxBytes} bytes)`, 413);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** What a request body held: nothing, a JSON value, or form fields. */
export type ParsedBody =
  | { kind: "empty" }
  | { kind: "json"; value: unknown }
  | { kind: "form"; fields: URLSearchParams };

/**
 * Parses a body as JSON (a JSON content type, or a body that starts like JSON) or as
 * form fields (application/x-www-form-urlencoded, which httpx sends for `data=`).
 */
export async function readParsedBody(req: HttpRequest, maxBytes: number): Promise<ParsedBody> {
  return parseBody(req, await readBody(req, maxBytes));
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Parses a body already read; bytes that are not UTF-8 are refused, never replaced. */
export function parseBody(req: HttpRequest, raw: Buffer): ParsedBody {
  let text: string;
  try {
    text = STRICT_UTF8.decode(raw);
  } catch {
    throw new RestInputError("body: is not valid UTF-8");
  }
  if (text.trim() === "") return { kind: "empty" };
  const type = (headerOf(req, "content-type") ?? "").toLowerCase();
  const looksJson = /^\s*[[{"]/.test(text);
  if (type.includes("json") || (looksJson && !type.includes("multipart"))) {
    try {
      return { kind: "json", value: JSON.parse(text) as unknown };
    } catch {
      throw new RestInputError("body: is not valid JSON");
    }
  }
  if (type.startsWith("application/x-www-form-urlencoded") || type === "") {
    return { kind: "form", fields: new URLSearchParams(text) };
  }
  throw new RestInputError(`body: unsupported content type "${type}" (send JSON or form fields)`, 415);
}

/** Refuses query parameters a route does not know, so a typo is not silently ignored. */
export function rejectUnknownParams(params: URLSearchParams, known: readonly string[]): void {
  const unknown = [...new Set(params.keys())].filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new RestInputError(unknown.map((k) => `${k}: unknown parameter (known: ${known.join(", ") || "none"})`));
  }
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** FastAPI's bool parsing, as 0.2 did it: true/1/yes/on and false/0/no/off; "" is unset. */
export function parseBoolParam(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === "") return undefined;
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new RestInputError(`${name}: must be true or false (got "${raw}")`);
}

/** A whole number (at least min, when given); "" is unset. Ranges are the services' to check. */
export function parseIntParam(name: string, raw: string | undefined, min?: number): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = raw.trim();
  if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new RestInputError(`${name}: must be an integer (got "${raw}")`);
  }
  const n = Number(v);
  if (min !== undefined && n < min) throw new RestInputError(`${name}: must be at least ${min} (got ${n})`);
  return n;
}
