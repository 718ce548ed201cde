/**
 * `npm run bench:load`: 64 clients for 60 s against a real server process (local backend),
 * mixing the calls users make: submit a job and follow its output to the end, get a job,
 * list jobs. The clients are spread over Connect JSON (HTTP/1.1), Connect binary (HTTP/2),
 * gRPC and gRPC-web.
 *
 * Reports p50/p99 per RPC, errors (target: 0), and the server's RSS, open file descriptors
 * and child processes when idle, at the start of the measured minute (after a warm-up) and
 * at its end (after the clients have gone), and fails (exit 1) when there were errors, RSS
 * grew by more than 10% from start to end, or descriptors or child processes did not come
 * back. Results go to bench/results/load.json.
 *
 * LOAD_CLIENTS (64), LOAD_SECONDS (60) and LOAD_WARMUP_SECONDS (30) change the run. The warm-up
 * lets V8 size its heap for the load (idle to loaded is reported too); a heap snapshot of
 * the server before and after a measured minute showed the live heap flat (23 -> 24 MiB).
 */
import fs from "node:fs/promises";
import { ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { JobService } from "../gen/flux/restful/v1/job_service_pb.js";
import { percentile, round, startServerProcess, type ServerProcess } from "./support.js";

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 64);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.LOAD_WARMUP_SECONDS ?? 30);
const PROTOCOLS = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"] as const;

function transportFor(protocol: (typeof PROTOCOLS)[number], baseUrl: string): Transport {
  switch (protocol) {
    case "connect-json-h1":
      return createConnectTransport({ baseUrl, httpVersion: "1.1" });
    case "connect-binary-h2":
      return createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
    case "grpc":
      return createGrpcTransport({ baseUrl });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
  }
}
type Rpc = "SubmitJob" | "StreamJobOutput" | "GetJob" | "ListJobs";

interface Snapshot {
  rssMiB: number;
  fds: number;
  children: number;
}

async function snapshot(server: ServerProcess): Promise<Snapshot> {
  const children = await fs.readFile(`/proc/${server.pid}/task/${server.pid}/children`, "utf8").catch(() => "");
  return {
    rssMiB: round((await server.rssBytes()) / 2 ** 20),
    fds: await server.openFds(),
    children: children.trim() === "" ? 0 : children.trim().split(/\s+/).length,
  };
}

class Recorder {
  readonly latencies = new Map<Rpc, number[]>();
  errors = 0;
  readonly firstErrors: string[] = [];
  async time<T>(rpc: Rpc, fn: () => Promise<T>): Promise<T | undefined> {
    const t0 = performance.now();
    try {
      const out = await fn();
      const list = this.latencies.get(rpc) ?? [];
      list.push(performance.now() - t0);
      this.latencies.set(rpc, list);
      return out;
    } catch (e) {
      this.errors++;
      if (this.firstErrors.length < 5) this.firstErrors.push(`${rpc}: ${ConnectError.from(e).message}`);
      return undefined;
    }
  }
}

/** One client's loop: 30% submit-and-follow, 40% get, 30% list, until `until`. */
async function clientLoop(client: Client<typeof JobService>, rec: Recorder, recent: string[], until: () => boolean, n: number): Promise<void> {
  let seq = 0;
  while (!until()) {
    const roll = Math.random();
    if (roll < 0.3 || recent.length === 0) {
      const submitted = await rec.time("SubmitJob", () => client.submitJob({ command: ["sh", "-c", `echo load ${n} ${seq++}`], name: `load-${n}` }));
      if (submitted === undefined) continue;
      if (recent.length < 10_000) recent.push(submitted.id);
      else recent[Math.floor(Math.random() * recent.length)] = submitted.id;
      await rec.time("StreamJobOutput", async () => {
        let ended = false;
        for await (const msg of client.streamJobOutput({ id: submitted.id })) if (msg.item.case === "end") ended = true;
        if (!ended) throw new Error(`stream of ${submitted.id} ended without its end`);
      });
    } else if (roll < 0.7) {
      const id = recent[Math.floor(Math.random() * recent.length)]!;
      await rec.time("GetJob", () => client.getJob({ id }));
    } else {
      await rec.time("ListJobs", () => client.listJobs({ pageSize: 50 }));
    }
  }
}

async function run(server: ServerProcess, seconds: number, recent: string[]): Promise<{ rec: Recorder; elapsedS: number }> {
  const rec = new Recorder();
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => {
      // Each client has its own transport (its own connection or HTTP/2 session), as separate users would.
      const transport = transportFor(PROTOCOLS[i % PROTOCOLS.length]!, server.url);
      return clientLoop(createClient(JobService, transport), rec, recent, () => performance.now() >= deadline, i);
    }),
  );
  return { rec, elapsedS: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const server = await startServerProcess();
  try {
    const idle = await snapshot(server);
    const recent: string[] = [];
    console.log(`warm-up: ${CLIENTS} clients for ${WARMUP_SECONDS} s`);
    const warm = await run(server, WARMUP_SECONDS, recent);
    const start = await snapshot(server);
    console.log(`measuring: ${CLIENTS} clients for ${SECONDS} s`);
    // RSS every 5 s: a leak climbs steadily, a heap settling in levels off.
    const rssSeriesMiB: number[] = [];
    const sampler = setInterval(() => void server.rssBytes().then((b) => rssSeriesMiB.push(round(b / 2 ** 20))), 5000);
    const { rec, elapsedS } = await run(server, SECONDS, recent);
    clearInterval(sampler);
    const loaded = await snapshot(server);
    // Idle HTTP/1.1 keep-alive connections close after 5 s; let them.
    await new Promise((r) => setTimeout(r, 7000));
    const end = await snapshot(server);

    const perRpc: Record<string, { count: number; perSecond: number; p50Ms: number; p99Ms: number }> = {};
    for (const [rpc, list] of [...rec.latencies].sort()) {
      list.sort((a, b) => a - b);
      perRpc[rpc] = { count: list.length, perSecond: round(list.length / elapsedS), p50Ms: round(percentile(list, 50), 2), p99Ms: round(percentile(list, 99), 2) };
    }
    const rssGrowth = (end.rssMiB - start.rssMiB) / start.rssMiB;
    const verdicts = {
      errors: rec.errors === 0 && warm.rec.errors === 0,
      rssFlatWithin10Percent: Math.abs(rssGrowth) <= 0.1,
      fdsBack: end.fds <= start.fds,
      childrenBack: end.children <= start.children,
    };
    const results = {
      clients: CLIENTS,
      seconds: round(elapsedS),
      protocols: PROTOCOLS,
      rpcs: perRpc,
      errors: rec.errors,
      warmupErrors: warm.rec.errors,
      firstErrors: [...warm.rec.firstErrors, ...rec.firstErrors],
      server: { idle, start, loaded, end, rssGrowthPercent: round(rssGrowth * 100, 1), rssEvery5sMiB: rssSeriesMiB },
      verdicts,
    };
    console.log(`\n${"rpc".padEnd(16)} ${"count".padStart(8)} ${"per s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`);
    for (const [rpc, r] of Object.entries(perRpc)) {
      console.log(`${rpc.padEnd(16)} ${String(r.count).padStart(8)} ${String(r.perSecond).padStart(8)} ${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)}`);
    }
    console.log(`errors: ${rec.errors} (warm-up ${warm.rec.errors})${results.firstErrors.length ? `: ${results.firstErrors.join("; ")}` : ""}`);
    console.log(`server  idle: RSS ${idle.rssMiB} MiB, ${idle.fds} fds, ${idle.children} children`);
    console.log(`       start: RSS ${start.rssMiB} MiB, ${start.fds} fds, ${start.children} children (after the warm-up)`);
    console.log(`      loaded: RSS ${loaded.rssMiB} MiB, ${loaded.fds} fds, ${loaded.children} children (last moment of load)`);
    console.log(`         end: RSS ${end.rssMiB} MiB, ${end.fds} fds, ${end.children} children (${results.server.rssGrowthPercent}% RSS from start)`);
    console.log(`RSS every 5 s while measuring (MiB): ${rssSeriesMiB.join(" ")}`);
    console.log(`verdicts: ${JSON.stringify(verdicts)}`);
    await fs.mkdir("bench/results", { recursive: true });
    await fs.writeFile("bench/results/load.json", `${JSON.stringify(results, null, 2)}\n`);
    if (!Object.values(verdicts).every(Boolean)) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
