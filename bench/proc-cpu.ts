/**
 * Where a series spent the machine's CPU: utime+stime of every process, read from /proc
 * before and after, grouped by command name. On a 2-core machine the server, the load
 * generator and the broker share the same cores, so a ratio to Flux's floor is only
 * understood next to who took the CPU (Linux only; elsewhere the sample is empty). Processes
 * that exit during the series are missed unless this process reaps them (cli transport's
 * `flux job submit` processes are children of the server, so they are missed).
 */
import fs from "node:fs";
import os from "node:os";

/** Linux reports CPU time in clock ticks of USER_HZ, 100 on every mainstream architecture. */
export const TICKS_PER_SECOND = 100;

/** The command name and the fields after it (fields[0] is field 3, state) of a /proc/PID/stat text. */
export function parseStat(stat: string): { name: string; fields: string[] } {
  // The name is in parentheses and may hold spaces or ")": fields resume after the last ")".
  const close = stat.lastIndexOf(")");
  return { name: stat.slice(stat.indexOf("(") + 1, close), fields: stat.slice(close + 2).split(" ") };
}

/** utime + stime in ticks (fields 14 and 15). */
export const cpuTicks = (fields: string[]): number => Number(fields[11]) + Number(fields[12]);

/** pid -> [command name, CPU ticks so far]. */
export type CpuSample = Map<number, [string, number]>;

export function sampleCpu(): CpuSample {
  const sample: CpuSample = new Map();
  let pids: string[];
  try {
    pids = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return sample;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const { name, fields } = parseStat(stat);
    sample.set(Number(pid), [name, cpuTicks(fields)]);
    // Children this process reaped (a `flux python` floor run with execFileSync): cutime + cstime, fields 16 and 17.
    if (Number(pid) === process.pid) sample.set(-1, ["(reaped children)", Number(fields[13]) + Number(fields[14])]);
  }
  return sample;
}

/** CPU seconds per command name between two samples, largest first, with the machine's total. */
export function cpuBetween(before: CpuSample, after: CpuSample): { byCommand: [string, number][]; total: number } {
  const byCommand = new Map<string, number>();
  for (const [pid, [name, ticks]] of after) {
    const spent = ticks - (before.get(pid)?.[1] ?? 0);
    if (spent > 0) byCommand.set(name, (byCommand.get(name) ?? 0) + spent / TICKS_PER_SECOND);
  }
  const rows = [...byCommand].sort((a, b) => b[1] - a[1]);
  return { byCommand: rows, total: rows.reduce((sum, [, s]) => sum + s, 0) };
}

/** One line: the biggest CPU users of a series, as cores used over `seconds`, and the machine's idle share. */
export function describeCpu(spent: ReturnType<typeof cpuBetween>, seconds: number, top = 6): string {
  const cores = os.cpus().length;
  const used = spent.byCommand.slice(0, top).map(([name, s]) => `${name} ${(s / seconds).toFixed(2)}`);
  const idle = Math.max(0, 1 - spent.total / (seconds * cores));
  return `cores used: ${used.join(", ")}; idle ${(idle * 100).toFixed(0)}% of ${cores}`;
}
