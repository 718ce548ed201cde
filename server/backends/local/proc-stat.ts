/**
 * Linux /proc lookups that let a restarted server tell its old tasks from unrelated processes
 * that reuse their pids: a process is the same one only if its start time matches.
 */
import fs from "node:fs";

interface ProcStat {
  pgrp: number;
  startTicks: number;
}

function readStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): pgrp is field 5, starttime field 22.
  const pgrp = Number(fields[2]);
  const startTicks = Number(fields[19]);
  if (!Number.isFinite(pgrp) || !Number.isFinite(startTicks)) return undefined;
  return { pgrp, startTicks };
}

/** The start time of a process in clock ticks since boot; 0 when unknown (no /proc). */
export function processStartTicks(pid: number): number {
  return readStat(pid)?.startTicks ?? 0;
}

/**
 * Whether process group `pgid` is still the one whose leader started at `startTicks`: the
 * leader is alive with that start time, or it is gone and members of the group that started
 * no earlier remain (its descendants; while they live no new group can take the number).
 * False when /proc is not available or startTicks is unknown.
 */
export function isSameProcessGroup(pgid: number, startTicks: number): boolean {
  if (startTicks <= 0) return false;
  const leader = readStat(pgid);
  if (leader !== undefined) return leader.startTicks === startTicks && leader.pgrp === pgid;
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return false;
  }
  for (const name of entries) {
    if (!/^[0-9]+$/.test(name)) continue;
    const stat = readStat(name);
    if (stat !== undefined && stat.pgrp === pgid && stat.startTicks >= startTicks) return true;
  }
  return false;
}
