/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof --cpu-prof-dir=DIR --import tsx server/main.ts`,
 * written when the process exits on SIGTERM): self time by function and by file, and with
 * --inclusive REGEX the inclusive time of the functions whose "name file:line" matches.
 *
 *   node --import tsx bench/cpuprofile-summary.ts DIR/CPU.*.cpuprofile [--top 40] [--inclusive 'backends/local']
 *
 * Times are sampled wall time on the profiled thread: on a busy machine they include the time
 * the thread waited for a core, so compare shares within one profile, not across machines.
 */
import fs from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const shortUrl = (url: string): string =>
  url
    .replace(/^file:\/\/\/?/, "")
    .replace(/.*node_modules\//, "nm/")
    .replace(/.*\/(server|gen|bench|clients)\//, "$1/");

const frameKey = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
};

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function print(title: string, map: Map<string, number>, totalUs: number, top: number): void {
  console.log(`--- ${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${key}`);
  }
}

function main(argv: string[]): void {
  const file = argv[0];
  if (file === undefined || file.startsWith("--")) {
    console.error("usage: cpuprofile-summary.ts FILE.cpuprofile [--top N] [--inclusive REGEX]");
    process.exit(2);
  }
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const top = Number(option("--top") ?? 40);
  const inclusive = option("--inclusive");

  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per node: each sample's delta goes to the node on top of the stack.
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byInclusive = new Map<string, number>();
  const pattern = inclusive === undefined ? undefined : new RegExp(inclusive);
  for (const [id, us] of selfUs) {
    const node = nodes.get(id)!;
    add(byFunction, frameKey(node), us);
    add(byFile, shortUrl(node.callFrame.url) || `(${node.callFrame.functionName})`, us);
    if (pattern === undefined) continue;
    // Count each function once per stack, so recursion does not count twice.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = frameKey(nodes.get(cur)!);
      if (!seen.has(key) && pattern.test(key)) add(byInclusive, key, us);
      seen.add(key);
    }
  }

  console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled`);
  print("self time by function", byFunction, totalUs, top);
  print("self time by file", byFile, totalUs, Math.min(top, 30));
  if (pattern !== undefined) print(`inclusive time of functions matching /${inclusive}/`, byInclusive, totalUs, top);
}

main(process.argv.slice(2));
