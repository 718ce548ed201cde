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

/** The JSON object of a payload; FluxProtocolError when it is not one. */
export function decodeJsonPayload(payload: Buffer): { [key: string]: ExactJson } {
  let value: ExactJson;
  try {
    value = parseExactJson(withoutNul(payload).toString("utf8"));
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
