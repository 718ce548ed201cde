/**
 * SubmitJob load from h2load (nghttp2's HTTP/2 benchmarking tool, written in C; Debian
 * package nghttp2-client): pre-encoded Connect binary requests, one in flight per
 * connection. On a 2-core machine the Node load generators take 0.1-0.2 of a core from
 * whatever they measure; h2load takes about 0.02, which matters when the server shares
 * the cores with a Flux broker. Not installed by .ci/run: benchmarks only.
 */
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { SubmitJobRequestSchema } from "../gen/flux/restful/v1/job_service_pb.js";
import { loopResult, type LoopResult } from "./support.js";

/** Whether h2load is on PATH. */
export function haveH2load(): boolean {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * `clients` HTTP/2 connections (h2c, prior knowledge), each with one SubmitJob of `command`
 * in flight, for `seconds`. Latencies come from h2load's per-request log; a request
 * counts as an error unless it was answered 2xx (Connect answers errors with 4xx/5xx).
 */
export async function h2loadSubmitLoad(url: string, clients: number, seconds: number, command: string[] = ["true"]): Promise<LoopResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-h2load-"));
  try {
    const body = path.join(dir, "body");
    const log = path.join(dir, "log");
    await fs.writeFile(body, toBinary(SubmitJobRequestSchema, create(SubmitJobRequestSchema, { command })));
    const args = ["-c", String(clients), "-m", "1", "-D", String(seconds), "-d", body, "-H", "content-type: application/proto", `--log-file=${log}`, `${url}/flux.restful.v1.JobService/SubmitJob`];
    const out = await new Promise<string>((resolve, reject) =>
      execFile("h2load", args, { encoding: "utf8", timeout: (seconds + 60) * 1000 }, (e, stdout, stderr) => (e ? reject(new Error(`h2load failed: ${stderr || e.message}`)) : resolve(stdout))),
    );
    const finished = /finished in ([\d.]+)(ms|s)/.exec(out);
    if (!finished) throw new Error(`h2load printed no summary: ${out.slice(0, 300)}`);
    const elapsed = Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1);
    // Each log line: start time (µs), HTTP status (-1 when the request failed), duration (µs).
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    for (const line of (await fs.readFile(log, "utf8")).split("\n")) {
      const [, status, micros] = line.split("\t");
      if (status === undefined || micros === undefined) continue;
      if (status.startsWith("2")) latencies.push(Number(micros) / 1000);
      else {
        errors++;
        firstError ??= `HTTP ${status}`;
      }
    }
    return loopResult(latencies, errors, elapsed, firstError);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
