// `flux getattr` and `flux resource R|status` of the fake (getattr-*.txt, resource-R*.txt).
import { allJobIds } from "./joblist.mjs";
import { loadConfig } from "./state.mjs";
import { readAllocs } from "./sched.mjs";
import fs from "node:fs";
import { jobDir } from "./state.mjs";
import { decodeIdset, dumpJson, encodeHostlist, encodeIdset, PyFloat } from "./util.mjs";
import { Exit } from "./cmd-job.mjs";

export function getattr(dir, args, env) {
  if (args.length !== 1) throw new Exit(1, "Usage: flux-getattr name\n");
  const config = loadConfig(dir);
  const attrs = {
    "security.owner": String(process.getuid()),
    size: String(config.nodes.length),
    rank: "0",
    "local-uri": env.FLUX_URI ?? "",
    rundir: dir,
    hostlist: encodeHostlist(config.nodes.map((n) => n.hostname)),
    version: "0.88.0-fake",
  };
  if (!(args[0] in attrs)) throw new Exit(1, `flux-getattr: ${args[0]}: No such file or directory\n`);
  return `${attrs[args[0]]}\n`;
}

/** Per-rank {cores, gpus} id sets of a resource state. */
function rankSets(config, state) {
  const all = config.nodes.map((n, rank) => ({ rank, cores: [...Array(n.cores).keys()], gpus: [...Array(n.gpus).keys()] }));
  const unusable = new Set([...(config.down ?? []), ...(config.drained ?? [])]);
  const allocated = new Map();
  for (const parts of Object.values(readAllocs(config.dir))) {
    for (const p of parts) {
      const a = allocated.get(p.rank) ?? { cores: new Set(), gpus: new Set() };
      p.cores.forEach((c) => a.cores.add(c));
      p.gpus.forEach((g) => a.gpus.add(g));
      allocated.set(p.rank, a);
    }
  }
  const pick = (r) => {
    const a = allocated.get(r.rank) ?? { cores: new Set(), gpus: new Set() };
    switch (state) {
      case "all":
        return r;
      case "down":
        return unusable.has(r.rank) ? r : undefined;
      case "up":
        return unusable.has(r.rank) ? undefined : r;
      case "allocated":
        return { rank: r.rank, cores: r.cores.filter((c) => a.cores.has(c)), gpus: r.gpus.filter((g) => a.gpus.has(g)) };
      case "free":
        return unusable.has(r.rank) ? undefined : { rank: r.rank, cores: r.cores.filter((c) => !a.cores.has(c)), gpus: r.gpus.filter((g) => !a.gpus.has(g)) };
      default:
        throw new Exit(1, `flux-resource: ERROR: unknown state ${state}\n`);
    }
  };
  return all.map(pick).filter((r) => r !== undefined && (r.cores.length > 0 || r.gpus.length > 0));
}

/** R of a set, the way flux-resource prints it (Python json.dumps; equal children share an entry). */
function rOfSets(config, sets) {
  const lite = [];
  for (const r of sets) {
    const children = { core: encodeIdset(r.cores) };
    if (r.gpus.length) children.gpu = encodeIdset(r.gpus);
    const same = lite.find((e) => JSON.stringify(e.children) === JSON.stringify(children));
    if (same) same.ranks.push(r.rank);
    else lite.push({ ranks: [r.rank], children });
  }
  const hosts = sets.map((r) => config.nodes[r.rank].hostname);
  return {
    version: 1,
    execution: {
      R_lite: lite.map((e) => ({ rank: encodeIdset(e.ranks), children: e.children })),
      starttime: new PyFloat(0),
      expiration: new PyFloat(0),
      nodelist: hosts.length ? [encodeHostlist(hosts)] : [],
    },
  };
}

// resource-R.txt, resource-R-free.txt; `flux resource status -s drain -n -o {ranks}` prints the
// ranks of the draining and the drained lines (flux-resource.py status()).
export function resource(dir, args) {
  const config = { ...loadConfig(dir), dir };
  const [sub, ...rest] = args;
  const opt = (short, long) => {
    const i = rest.findIndex((a) => a === short || a === long);
    if (i >= 0) return rest[i + 1];
    const eq = rest.find((a) => a.startsWith(`${long}=`));
    return eq?.slice(long.length + 1);
  };
  if (sub === "R") {
    const states = (opt("-s", "--states") ?? "all").split(",");
    const byRank = new Map();
    for (const state of states) {
      for (const r of rankSets(config, state)) {
        const prev = byRank.get(r.rank) ?? { rank: r.rank, cores: [], gpus: [] };
        byRank.set(r.rank, { rank: r.rank, cores: [...new Set([...prev.cores, ...r.cores])].sort((a, b) => a - b), gpus: [...new Set([...prev.gpus, ...r.gpus])].sort((a, b) => a - b) });
      }
    }
    return dumpJson(rOfSets(config, [...byRank.values()].sort((a, b) => a.rank - b.rank)), true) + "\n";
  }
  if (sub === "status") {
    const states = (opt("-s", "--states") ?? "avail").split(",");
    const fmt = opt("-o", "--format") ?? "{state} {nnodes} {nodelist}";
    if (!states.includes("drain") || fmt !== "{ranks}") {
      throw new Exit(64, `fake flux: unsupported: resource status ${rest.join(" ")}\n`);
    }
    const drained = encodeIdset(config.drained ?? []);
    return `\n${drained}\n`;
  }
  throw new Exit(64, `fake flux: unsupported: resource ${args.join(" ")}\n`);
}

// flux-kvs.c cmd_get: one value per key, in argv order, each followed by a newline; a missing
// key ends the command with "flux-kvs: KEY: No such file or directory" (log_err_exit), exit 1.
// Only the RFC 16 job keys (job.<dothex>.<name>) exist in the fake's KVS.
export function kvsGet(dir, args) {
  const keys = args.filter((a) => a !== "--");
  if (keys.length === 0 || keys.some((k) => k.startsWith("-"))) throw new Exit(64, `fake flux: unsupported: kvs get ${args.join(" ")}\n`);
  let stdout = "";
  for (const key of keys) {
    const m = /^job\.([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})\.(jobspec|eventlog|R|guest\.output|guest\.exec\.eventlog)$/.exec(key);
    let value;
    if (m) {
      const id = BigInt(`0x${m[1]}${m[2]}${m[3]}${m[4]}`);
      try {
        value = fs.readFileSync(`${jobDir(dir, id)}/${m[5] === "jobspec" ? "jobspec.json" : m[5]}`, "utf8");
      } catch {}
    }
    if (value === undefined) throw Object.assign(new Exit(1, `flux-kvs: ${key}: No such file or directory\n`), { stdout });
    stdout += value.replace(/\n$/, "") + "\n";
  }
  return stdout;
}

export { allJobIds, decodeIdset };
