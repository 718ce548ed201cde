/**
 * Reads an answer the way its protocol carries errors and says whether it is a right
 * refusal: a 4xx, or HTTP 200 with a client-error code (gRPC trailers, a Connect end-stream
 * message), that the case expects, with a message a person can act on.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RawOutcome } from "../raw-client.js";
import type { MalformedCase } from "./malformed-case.js";

export interface Verdict {
  ok: boolean;
  /** The protocol code ("invalid_argument"), or the HTTP status as text. */
  code: string;
  message: string;
  problem?: string;
}

const GRPC_CODES = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/** Envelopes of a body: [flags, payload]. */
function envelopes(body: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let i = 0; i + 5 <= body.length; ) {
    const length = body.readUInt32BE(i + 1);
    out.push([body[i]!, body.subarray(i + 5, i + 5 + length)]);
    i += 5 + length;
  }
  return out;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const decode = (s: string | undefined) => {
  try {
    return decodeURIComponent(s ?? "");
  } catch {
    return s ?? "";
  }
};

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Why a message would not help a person, or undefined when it would. */
export function unclear(message: string): string | undefined {
  const m = message.trim();
  if (m.length < 3) return "no message";
  if (/^internal error$/i.test(m)) return "says only 'internal error'";
  if (/\n\s+at\s/.test(m)) return "carries a stack trace";
  if (m.includes(REPO_ROOT) || /node_modules|\.ts:\d+/.test(m)) return "leaks a server path";
  if (m.length > 2000) return `is ${m.length} characters long`;
  return undefined;
}

export function judge(c: MalformedCase, outcome: RawOutcome): Verdict {
  if (outcome.kind === "hang") return { ok: false, code: "hang", message: "", problem: "no answer in time" };
  if (outcome.kind === "transport-error") {
    if (c.expect.refusedStream && c.request.httpVersion === "2") return { ok: true, code: "refused-stream", message: outcome.error };
    return { ok: false, code: "transport-error", message: outcome.error, problem: `no answer: ${outcome.error}` };
  }
  const a = outcome.answer;
  let code = String(a.status);
  let message = "";
  if (a.status === 200) {
    if (c.answer === "connect-stream") {
      const end = envelopes(a.body).find(([flags]) => (flags & 0x02) !== 0);
      const error = end ? (parseJson(end[1].toString("utf8"))?.error as Record<string, unknown> | undefined) : undefined;
      if (!error) return { ok: false, code: "ok", message: "", problem: "accepted: the stream ended without an error" };
      code = String(error.code);
      message = String(error.message ?? "");
    } else if (c.answer === "grpc" || c.answer === "grpc-web") {
      let fields: Record<string, string> = { ...a.headers, ...a.trailers };
      if (fields["grpc-status"] === undefined && c.answer === "grpc-web") {
        const trailer = envelopes(a.body).find(([flags]) => (flags & 0x80) !== 0);
        fields = Object.fromEntries(
          (trailer?.[1].toString("utf8") ?? "")
            .split("\r\n")
            .filter((l) => l.includes(":"))
            .map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
        );
      }
      const status = Number(fields["grpc-status"] ?? NaN);
      code = GRPC_CODES[status] ?? `grpc-status ${fields["grpc-status"]}`;
      message = decode(fields["grpc-message"]);
      if (status === 0) return { ok: false, code, message, problem: "accepted: grpc-status 0" };
    } else {
      return { ok: false, code, message: a.body.subarray(0, 200).toString("utf8"), problem: "accepted: HTTP 200" };
    }
  } else {
    const text = a.body.toString("utf8");
    const json = parseJson(text);
    if (json && typeof json.code === "string") code = json.code;
    message = json ? String(json.message ?? json.Message ?? json.detail ?? "") : text;
    if (a.status < 400 || a.status > 499) return { ok: false, code, message, problem: `HTTP ${a.status}` };
  }
  const expected = (c.expect.codes as string[]).includes(code) || (c.expect.statuses ?? []).includes(a.status);
  if (!expected) {
    const wanted = [...c.expect.codes, ...(c.expect.statuses ?? []).map(String)].join(" or ");
    return { ok: false, code, message, problem: `answered ${code} (HTTP ${a.status}), expected ${wanted}` };
  }
  const why = unclear(message);
  if (why !== undefined) return { ok: false, code, message, problem: `the message ${why}` };
  return { ok: true, code, message };
}
