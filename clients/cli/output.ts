/**
 * How the CLI shows things: Flux-style JSON records (snake_case fields, state and result by
 * name, ids as F58 strings), pretty JSON by default as 0.2 printed it, one-line JSON with
 * --json, and tables for lists when stdout is a terminal.
 */
import { toJson, type JsonObject } from "@bufbuild/protobuf";
import { UserSchema, type User } from "../../gen/flux/restful/v1/admin_service_pb.js";
import { JobSchema, NodeSchema, NodeState, OutputStream, type Job, type JobEvent, JobEventSchema, type Node, type OutputChunk } from "../../gen/flux/restful/v1/job_pb.js";
import { resultName, stateName } from "../sdk/index.js";

const JSON_OPTIONS = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

export function jobToJson(job: Job): JsonObject {
  return {
    ...(toJson(JobSchema, job, JSON_OPTIONS) as JsonObject),
    state: stateName(job.state),
    result: resultName(job.result),
    returncode: job.returncode ?? null,
    waitstatus: job.waitstatus ?? null,
  };
}

export function nodeToJson(node: Node): JsonObject {
  return { ...(toJson(NodeSchema, node, JSON_OPTIONS) as JsonObject), state: NodeState[node.state] ?? "" };
}

export function userToJson(user: User): JsonObject {
  return toJson(UserSchema, user, JSON_OPTIONS) as JsonObject;
}

export function eventToJson(event: JobEvent): JsonObject {
  return toJson(JobEventSchema, event, JSON_OPTIONS) as JsonObject;
}

/** An output chunk with its data as text (invalid UTF-8 becomes U+FFFD; use the raw mode for bytes). */
export function chunkToJson(chunk: OutputChunk): JsonObject {
  return {
    offset: chunk.offset.toString(),
    stream: chunk.stream === OutputStream.STDERR ? "stderr" : "stdout",
    rank: chunk.rank,
    data: new TextDecoder().decode(chunk.data),
    timestamp: chunk.timestamp,
  };
}

/** Flux's duration format (flux-jobs TIME): seconds, minutes, hours, days. */
export function formatDuration(seconds: number): string {
  if (!(seconds > 0)) return "-";
  if (seconds < 60) return `${seconds.toFixed(3)}s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)}m`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86400).toFixed(1)}d`;
}

/** Left-aligned columns separated by two spaces, with a header row. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - [...c].length)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

export function jobsTable(jobs: readonly Job[]): string {
  return renderTable(
    ["JOBID", "USER", "NAME", "STATUS", "NTASKS", "NNODES", "TIME", "INFO"],
    jobs.map((j) => [
      j.id,
      j.owner,
      j.name,
      j.status || stateName(j.state),
      String(j.ntasks),
      j.nnodes > 0 ? String(j.nnodes) : "-",
      formatDuration(j.runtime),
      j.exception?.occurred && j.exception.note ? j.exception.note : j.nodelist,
    ]),
  );
}

export function nodesTable(nodes: readonly Node[]): string {
  return renderTable(
    ["RANK", "HOSTNAME", "STATE", "CORES", "CORES_USED", "GPUS", "GPUS_USED"],
    nodes.map((n) => [String(n.rank), n.hostname, NodeState[n.state] ?? "", String(n.cores), String(n.coresAllocated), String(n.gpus), String(n.gpusAllocated)]),
  );
}

/** Pretty JSON as 0.2 printed it (four spaces), or one line for --json. */
export function formatJson(value: unknown, oneLine: boolean): string {
  return (oneLine ? JSON.stringify(value) : JSON.stringify(value, null, 4)) + "\n";
}
