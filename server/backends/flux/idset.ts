/**
 * RFC 22 idsets ("0-3,7") and RFC 29 hostlists ("node[1-3,7],login"), as they appear
 * in R (RFC 20) and `flux resource` output.
 */

/** Decodes an idset ("", "3", "0-1,4", "[0-2]") into sorted unique ids; throws on garbage. */
export function decodeIdset(text: string): number[] {
  const body = text.trim().replace(/^\[(.*)\]$/, "$1");
  if (body === "") return [];
  const ids = new Set<number>();
  for (const part of body.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`invalid idset "${text}"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 1_000_000) throw new Error(`invalid idset "${text}"`);
    for (let i = lo; i <= hi; i++) ids.add(i);
  }
  return [...ids].sort((a, b) => a - b);
}

/** Encodes ids as the shortest idset ("0-2,5"). */
export function encodeIdset(ids: Iterable<number>): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(",");
}

/** Splits on commas that are not inside brackets. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.filter((s) => s !== "");
}

/** Expands a hostlist ("vm,vm", "node[01-03,7]") into host names, in order, duplicates kept. */
export function decodeHostlist(text: string): string[] {
  const hosts: string[] = [];
  for (const entry of splitTopLevel(text.trim())) {
    const m = /^([^[\]]*)\[([^\]]+)\](.*)$/.exec(entry);
    if (!m) {
      hosts.push(entry);
      continue;
    }
    const [, prefix, ranges, suffix] = m as unknown as [string, string, string, string];
    for (const part of ranges.split(",")) {
      const r = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (!r) throw new Error(`invalid hostlist "${text}"`);
      const width = r[1]!.length;
      const lo = Number(r[1]);
      const hi = r[2] === undefined ? lo : Number(r[2]);
      for (let i = lo; i <= hi; i++) hosts.push(`${prefix}${String(i).padStart(width, "0")}${suffix}`);
    }
  }
  return hosts;
}
