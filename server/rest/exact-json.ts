/**
 * JSON text with exact integers. 0.2 clients expect job ids as JSON integers, and ids pass
 * 2^53 after about six days of instance uptime (RFC 19), where a JS number would round
 * them: a bigint is written as its decimal digits, never through a number. A Map is
 * written as an object in insertion order (a plain object would move integer-like keys,
 * such as decimal job ids, to the front in numeric order).
 */

export type ExactJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly ExactJsonValue[]
  | ReadonlyMap<string, ExactJsonValue>
  | { readonly [key: string]: ExactJsonValue | undefined };

/** Serialises like JSON.stringify (undefined members are left out), bigints exactly. */
export function stringifyExact(value: ExactJsonValue): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join("");
}

function write(value: ExactJsonValue, out: string[]): void {
  if (value === null) out.push("null");
  else if (typeof value === "bigint") out.push(value.toString(10));
  else if (typeof value === "number") out.push(Number.isFinite(value) ? JSON.stringify(value) : "null");
  else if (typeof value === "string" || typeof value === "boolean") out.push(JSON.stringify(value));
  else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item: ExactJsonValue, i: number) => {
      if (i > 0) out.push(",");
      write(item, out);
    });
    out.push("]");
  } else {
    const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
    out.push("{");
    let first = true;
    for (const [key, item] of entries as [string, ExactJsonValue | undefined][]) {
      if (item === undefined) continue;
      if (!first) out.push(",");
      first = false;
      out.push(JSON.stringify(key), ":");
      write(item, out);
    }
    out.push("}");
  }
}
