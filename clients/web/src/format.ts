/**
 * How values are written on the pages: times, durations, states, argv. Flux's words are
 * kept verbatim (RUN, INACTIVE, COMPLETED...).
 */
import { JobResult, JobState, resultName, stateName, type Job } from "../../sdk/index.js";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** A float epoch-seconds time as local "YYYY-MM-DD HH:MM:SS"; "" for 0 (has not happened). */
export function formatTime(epochSeconds: number): string {
  if (!epochSeconds) return "";
  const d = new Date(epochSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration in seconds, short: "0.42s", "12.3s", "5m 03s", "2h 01m", "3d 04h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** A time limit: "none" for 0. */
export function formatTimeLimit(seconds: number): string {
  return seconds > 0 ? `${formatDuration(seconds)} (${seconds} s)` : "none";
}

/** The state's Flux name, e.g. "RUN". */
export function jobStateText(job: Pick<Job, "state">): string {
  return stateName(job.state) || "UNKNOWN";
}

/** The result's Flux name, e.g. "COMPLETED"; "" while the job is active. */
export function jobResultText(job: Pick<Job, "result">): string {
  return resultName(job.result);
}

/** True until the job is INACTIVE. */
export function isActive(job: Pick<Job, "state">): boolean {
  return job.state !== JobState.INACTIVE;
}

/** The CSS modifier of a state or result badge. */
export function badgeClass(job: Pick<Job, "state" | "result">): string {
  if (job.state !== JobState.INACTIVE) return job.state === JobState.RUN || job.state === JobState.CLEANUP ? "running" : "pending";
  switch (job.result) {
    case JobResult.COMPLETED:
      return "completed";
    case JobResult.CANCELED:
      return "canceled";
    case JobResult.TIMEOUT:
      return "timeout";
    default:
      return "failed";
  }
}

/** An argv written as a shell would need it typed (single quotes where needed). */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'"'"'`)}'`)).join(" ");
}

/** A byte count: "512 B", "1.5 KiB", "16.0 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
