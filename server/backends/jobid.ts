/**
 * RFC 19 job ids (FLUIDs): every encoding in, one canonical form out.
 *
 * A job id is an unsigned 64-bit integer, held as a bigint because ids pass 2^53 after about
 * six days of instance uptime. On the wire it is a string, F58 by default (RFC 19 "JSON Encoding").
 *
 * ```ts
 * const id = parseJobId("job.0000.002e.8400.0000"); // 199783088128n
 * formatJobId(id); // "ƒ6FP9YmD"
 * ```
 */
import { decodeMnemonicode, encodeMnemonicode } from "./jobid/mnemonicode.js";

export { createFluidGenerator } from "./jobid/fluid-generator.js";
export type { FluidGenerator, FluidGeneratorOptions } from "./jobid/fluid-generator.js";

/**
 * A job id encoding (the names are flux-core's, as in `flux job id --to=`):
 * - `f58`: base58 with the "ƒ" (U+0192) prefix, e.g. "ƒ6FP9YmD"; the canonical form
 * - `f58plain`: base58 with an ASCII "f" prefix, for shells, URLs and non-UTF-8 terminals
 * - `dec`: decimal, e.g. "199783088128"
 * - `hex`: lowercase hexadecimal with "0x", e.g. "0x2e84000000"
 * - `dothex`: 16 hex digits in four dot-separated groups, e.g. "0000.002e.8400.0000"
 * - `kvs`: "job." + dothex, the job's KVS directory, e.g. "job.0000.002e.8400.0000"
 * - `words`: mnemonicode, e.g. "alpha-sharon-cabaret--artist-academy-academy"
 */
export type JobIdEncoding = "f58" | "f58plain" | "dec" | "hex" | "dothex" | "kvs" | "words";

/** The text is not a job id in any RFC 19 encoding, or the value is outside 0..2^64-1. */
export class InvalidJobIdError extends Error {
  override name = "InvalidJobIdError" as const;
  /** The rejected input, untruncated. */
  readonly input: string;
  constructor(input: string) {
    super(`invalid job id ${JSON.stringify(truncate(input))}`);
    this.input = input;
  }
}

/** Recognizes an InvalidJobIdError by name, so it also works across duplicated module copies. */
export const isInvalidJobIdError = (e: unknown): e is InvalidJobIdError =>
  typeof e === "object" && e !== null && (e as { name?: unknown }).name === "InvalidJobIdError";

const MAX_MESSAGE_INPUT_CHARS = 64;
// Longer than any encoding of a 64-bit id, with room for zero padding; keeps hostile input cheap.
const MAX_INPUT_CHARS = 256;
const UINT64_MAX = (1n << 64n) - 1n;

const F58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const F58_DIGITS = new Map([...F58_ALPHABET].map((c, i) => [c, BigInt(i)]));
const F58_PREFIX = "ƒ";
const F58_ASCII_PREFIX = "f";
// flux-core's limit: 58^12 > 2^64, so longer digit strings cannot be ids.
const F58_MAX_DIGITS = 12;
const KVS_PREFIX = "job.";

const DEC = /^[0-9]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const DOTHEX = /^([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})$/;

function truncate(input: string): string {
  const chars = [...input];
  if (chars.length <= MAX_MESSAGE_INPUT_CHARS) return input;
  return `${chars.slice(0, MAX_MESSAGE_INPUT_CHARS).join("")}…`;
}

/**
 * Parses a job id in any RFC 19 encoding, ignoring surrounding whitespace. The encoding is
 * chosen as in RFC 19 "Decoding Alternate FLUID Representations" and flux-core
 * flux_job_id_parse(): a "." means dothex (after an optional "job." kvs prefix), a "-" means
 * words, a leading "ƒ" or "f" means F58, a leading "0x" hex, anything else decimal.
 * Unlike flux-core it rejects rather than wraps or truncates: signs, a value above 2^64-1,
 * dothex groups that are not exactly 4 hex digits. The emoji encoding is not accepted.
 *
 * Throws InvalidJobIdError.
 */
export function parseJobId(text: string): bigint {
  const id = typeof text === "string" ? decode(text.trim()) : undefined;
  if (id === undefined || id > UINT64_MAX) throw new InvalidJobIdError(String(text));
  return id;
}

function decode(s: string): bigint | undefined {
  if (s.length === 0 || s.length > MAX_INPUT_CHARS) return undefined;
  if (s.includes(".")) return decodeDothex(s.startsWith(KVS_PREFIX) ? s.slice(KVS_PREFIX.length) : s);
  if (s.includes("-")) return decodeMnemonicode(s);
  if (s.startsWith(F58_PREFIX)) return decodeF58(s.slice(F58_PREFIX.length));
  if (s.startsWith(F58_ASCII_PREFIX)) return decodeF58(s.slice(F58_ASCII_PREFIX.length));
  if (s.startsWith("0x")) return HEX.test(s) ? BigInt(s) : undefined;
  return DEC.test(s) ? BigInt(s) : undefined;
}

function decodeDothex(s: string): bigint | undefined {
  const groups = DOTHEX.exec(s);
  return groups ? BigInt(`0x${groups.slice(1).join("")}`) : undefined;
}

function decodeF58(digits: string): bigint | undefined {
  if (digits.length === 0 || digits.length > F58_MAX_DIGITS) return undefined;
  let id = 0n;
  for (const c of digits) {
    const digit = F58_DIGITS.get(c);
    if (digit === undefined) return undefined;
    id = id * 58n + digit;
  }
  return id;
}

function encodeF58(id: bigint): string {
  let digits = "";
  do {
    digits = F58_ALPHABET[Number(id % 58n)] + digits;
    id /= 58n;
  } while (id > 0n);
  return digits;
}

function dothex(id: bigint): string {
  const hex = id.toString(16).padStart(16, "0");
  return `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}.${hex.slice(12)}`;
}

/**
 * Formats a job id. Defaults to "f58", the canonical form on the wire.
 *
 * Throws InvalidJobIdError when `id` is not in 0..2^64-1, and RangeError for an unknown encoding.
 */
export function formatJobId(id: bigint, encoding: JobIdEncoding = "f58"): string {
  if (typeof id !== "bigint" || id < 0n || id > UINT64_MAX) throw new InvalidJobIdError(String(id));
  switch (encoding) {
    case "f58":
      return F58_PREFIX + encodeF58(id);
    case "f58plain":
      return F58_ASCII_PREFIX + encodeF58(id);
    case "dec":
      return id.toString(10);
    case "hex":
      return `0x${id.toString(16)}`;
    case "dothex":
      return dothex(id);
    case "kvs":
      return KVS_PREFIX + dothex(id);
    case "words":
      return encodeMnemonicode(id);
    default:
      throw new RangeError(`unknown job id encoding ${JSON.stringify(encoding satisfies never)}`);
  }
}
