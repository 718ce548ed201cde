/**
 * Nodes from the instance's resource sets (RFC 20 R, by state): ranks, hostnames,
 * cores and gpus, up/down/drained, and how much of each is allocated.
 */
import type { NodeInfo } from "../backend.js";
import { isJsonObject, type ExactJson } from "./exact-json.js";
import type { ResourceSnapshot } from "./flux-calls.js";
import { decodeHostlist, decodeIdset } from "./idset.js";

interface RankResources {
  hostname: string;
  cores: number;
  gpus: number;
}

/** Per-rank core and gpu counts of an R object, with hostnames from its nodelist. */
export function ranksOfR(R: ExactJson): Map<number, RankResources> {
  const out = new Map<number, RankResources>();
  const execution = isJsonObject(R) && isJsonObject(R.execution) ? R.execution : undefined;
  if (!execution || !Array.isArray(execution.R_lite)) return out;
  for (const entry of execution.R_lite) {
    if (!isJsonObject(entry) || typeof entry.rank !== "string") continue;
    const children = isJsonObject(entry.children) ? entry.children : {};
    const cores = typeof children.core === "string" ? decodeIdset(children.core).length : 0;
    const gpus = typeof children.gpu === "string" ? decodeIdset(children.gpu).length : 0;
    for (const rank of decodeIdset(entry.rank)) {
      const prev = out.get(rank);
      out.set(rank, { hostname: "", cores: (prev?.cores ?? 0) + cores, gpus: (prev?.gpus ?? 0) + gpus });
    }
  }
  // RFC 20: nodelist names the hosts of the ranks in ascending rank order.
  const hosts = Array.isArray(execution.nodelist)
    ? execution.nodelist.flatMap((h) => (typeof h === "string" && h !== "" ? decodeHostlist(h) : []))
    : [];
  [...out.keys()]
    .sort((a, b) => a - b)
    .forEach((rank, i) => {
      out.get(rank)!.hostname = hosts[i] ?? "";
    });
  return out;
}

export function nodesOf(snapshot: ResourceSnapshot): NodeInfo[] {
  const all = ranksOfR(snapshot.all);
  const allocated = ranksOfR(snapshot.allocated);
  const down = new Set(ranksOfR(snapshot.down).keys());
  const drained = new Set(snapshot.drained === "" ? [] : decodeIdset(snapshot.drained));
  return [...all.entries()]
    .sort(([a], [b]) => a - b)
    .map(([rank, r]) => ({
      rank,
      hostname: r.hostname,
      // flux resource lists drained ranks among "down" too; drained is the more telling state.
      state: drained.has(rank) ? "drained" : down.has(rank) ? "down" : "up",
      cores: r.cores,
      coresAllocated: allocated.get(rank)?.cores ?? 0,
      gpus: r.gpus,
      gpusAllocated: allocated.get(rank)?.gpus ?? 0,
    }));
}
