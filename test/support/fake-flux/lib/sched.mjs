// A small scheduler for the fake instance: feasibility with sched-simple's messages
// (Rv1Pool._check_feasibility), first-fit allocation of cores/gpus/nodes, and R (RFC 20).
import fs from "node:fs";
import { decodeIdset, encodeHostlist, encodeIdset } from "./util.mjs";

/** What a jobspec asks for: nnodes (0 = no node level), exclusive, nslots, cores and gpus per slot. */
export function requestOf(jobspec) {
  const top = jobspec.resources?.[0] ?? {};
  const slotOf = (v) => (v.type === "slot" ? v : (v.with ?? []).find((c) => c.type === "slot"));
  const slot = slotOf(top) ?? { count: 1, with: [] };
  const core = (slot.with ?? []).find((c) => c.type === "core");
  const gpu = (slot.with ?? []).find((c) => c.type === "gpu");
  const nnodes = top.type === "node" ? top.count : 0;
  return {
    nnodes,
    exclusive: top.type === "node" && top.exclusive === true,
    nslots: nnodes > 0 ? slot.count * nnodes : slot.count,
    slotsPerNode: slot.count,
    slotSize: core?.count ?? 1,
    gpuPerSlot: gpu?.count ?? 0,
  };
}

/** The message sched-simple raises as an "alloc" exception, or undefined when feasible. */
export function infeasible(req, nodes) {
  const ranks = nodes.map((n) => ({ cores: n.cores, gpus: n.gpus }));
  if (req.exclusive) {
    const eligible = ranks.filter((r) => r.cores >= req.slotSize && (req.gpuPerSlot === 0 || r.gpus >= req.gpuPerSlot)).length;
    const need = Math.max(req.nnodes, 1);
    return eligible < need ? `unsatisfiable request: need ${need} exclusive node(s), only ${eligible} eligible` : undefined;
  }
  if (req.nnodes > 0) {
    const spn = Math.floor(req.nslots / req.nnodes);
    const cpn = spn * req.slotSize;
    const gpn = spn * req.gpuPerSlot;
    const eligible = ranks.filter((r) => r.cores >= cpn && r.gpus >= gpn).length;
    if (eligible < req.nnodes) {
      return `unsatisfiable request: need ${req.nnodes} node(s) with ${cpn} cores${gpn ? ` and ${gpn} GPUs` : ""} each, only ${eligible} eligible`;
    }
    return undefined;
  }
  const slots = ranks.reduce((n, r) => n + Math.floor(r.cores / req.slotSize), 0);
  if (slots < req.nslots) {
    const total = ranks.reduce((n, r) => n + r.cores, 0);
    return `unsatisfiable request: need ${req.nslots} slot(s) of ${req.slotSize} core(s), only ${slots} such slot(s) available (total cores: ${total})`;
  }
  if (req.gpuPerSlot > 0) {
    const gslots = ranks.reduce((n, r) => n + Math.min(Math.floor(r.cores / req.slotSize), Math.floor(r.gpus / req.gpuPerSlot)), 0);
    if (gslots < req.nslots) {
      const total = ranks.reduce((n, r) => n + r.gpus, 0);
      return `unsatisfiable request: need ${req.nslots} slot(s) with ${req.gpuPerSlot} GPU(s) each, only ${gslots} available (total GPUs: ${total})`;
    }
  }
  return undefined;
}

export function readAllocs(dir) {
  try {
    return JSON.parse(fs.readFileSync(`${dir}/alloc.json`, "utf8"));
  } catch {
    return {};
  }
}

export function writeAllocs(dir, allocs) {
  fs.writeFileSync(`${dir}/alloc.json`, JSON.stringify(allocs));
}

/** Free cores/gpus per up rank, given current allocations. */
function freeOf(config, allocs) {
  const unusable = new Set([...(config.down ?? []), ...(config.drained ?? [])]);
  const free = config.nodes.map((n, rank) => ({
    rank,
    up: !unusable.has(rank),
    whole: true,
    cores: new Set(Array.from({ length: n.cores }, (_, i) => i)),
    gpus: new Set(Array.from({ length: n.gpus }, (_, i) => i)),
  }));
  for (const parts of Object.values(allocs)) {
    for (const p of parts) {
      const f = free[p.rank];
      if (!f) continue;
      f.whole = false;
      p.cores.forEach((c) => f.cores.delete(c));
      p.gpus.forEach((g) => f.gpus.delete(g));
    }
  }
  return free.filter((f) => f.up);
}

const take = (set, n) => {
  const out = [...set].sort((a, b) => a - b).slice(0, n);
  out.forEach((x) => set.delete(x));
  return out;
};

/** First-fit allocation: [{rank, cores, gpus}] or undefined when it does not fit now. */
export function tryAllocate(req, config, allocs) {
  const free = freeOf(config, allocs);
  const parts = [];
  if (req.nnodes > 0) {
    const cpn = req.slotsPerNode * req.slotSize;
    const gpn = req.slotsPerNode * req.gpuPerSlot;
    const fits = free.filter((f) => (req.exclusive ? f.whole : f.cores.size >= cpn && f.gpus.size >= gpn));
    if (fits.length < req.nnodes) return undefined;
    for (const f of fits.slice(0, req.nnodes)) {
      parts.push({
        rank: f.rank,
        cores: req.exclusive ? take(f.cores, Infinity) : take(f.cores, cpn),
        gpus: req.exclusive ? take(f.gpus, Infinity) : take(f.gpus, gpn),
      });
    }
    return parts;
  }
  let left = req.nslots;
  for (const f of free) {
    const cores = [];
    const gpus = [];
    while (left > 0 && f.cores.size >= req.slotSize && f.gpus.size >= req.gpuPerSlot) {
      cores.push(...take(f.cores, req.slotSize));
      gpus.push(...take(f.gpus, req.gpuPerSlot));
      left -= 1;
    }
    if (cores.length) parts.push({ rank: f.rank, cores, gpus });
  }
  return left === 0 ? parts : undefined;
}

/** R (RFC 20) for an allocation; consecutive ranks with the same children share an R_lite entry. */
export function rOfParts(parts, config, starttime, duration, nslots) {
  const lite = [];
  for (const p of [...parts].sort((a, b) => a.rank - b.rank)) {
    const children = { core: encodeIdset(p.cores) };
    if (p.gpus.length) children.gpu = encodeIdset(p.gpus);
    const prev = lite[lite.length - 1];
    if (prev && JSON.stringify(prev.children) === JSON.stringify(children) && prev.last === p.rank - 1) {
      prev.ranks.push(p.rank);
      prev.last = p.rank;
    } else {
      lite.push({ ranks: [p.rank], last: p.rank, children });
    }
  }
  const ranks = parts.map((p) => p.rank).sort((a, b) => a - b);
  return {
    version: 1,
    execution: {
      R_lite: lite.map((e) => ({ rank: encodeIdset(e.ranks), children: e.children })),
      starttime,
      expiration: duration > 0 ? starttime + duration : 0,
      nslots,
      nodelist: [encodeHostlist(ranks.map((r) => config.nodes[r].hostname))],
    },
  };
}

/** sched-simple's annotation: "rank0/core0", "rank1/core[0-1],gpu0", space-separated per rank. */
export function resourceSummary(parts) {
  const set = (ids) => (ids.length === 1 ? `${ids[0]}` : `[${encodeIdset(ids)}]`);
  return parts
    .map((p) => `rank${p.rank}/core${set(p.cores)}${p.gpus.length ? `,gpu${set(p.gpus)}` : ""}`)
    .join(" ");
}

export { decodeIdset };
