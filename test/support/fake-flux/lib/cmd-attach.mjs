// `flux job attach` of the fake (job-attach-*.txt): replays and follows the job's main
// eventlog (exceptions and the exit report on stderr) and its guest.output (data to
// stdout/stderr, shell log lines to stderr), and exits with the job's exit code.
// Like attach.c, a round of new main events is handled before a round of new output,
// so a finished job's "flux-job: task(s) ..." line precedes its replayed output
// (job-attach-exit3-merged-2to1.txt); a running job's output arrives as it is written
// (job-attach-running-timestamped.txt).
import { events, jobDir, jobExists, readLines } from "./state.mjs";
import { parseOptions, Exit } from "./cmd-job.mjs";
import { parseJobId, sleep } from "./util.mjs";

const SIGNAL_NAMES = { 1: "Hangup", 2: "Interrupt", 3: "Quit", 9: "Killed", 10: "User defined signal 1", 11: "Segmentation fault", 12: "User defined signal 2", 13: "Broken pipe", 14: "Alarm clock", 15: "Terminated" };
const LEVELS = ["FATAL", "FATAL", "FATAL", "ERROR", " WARN", null, "DEBUG", "TRACE"];

// libjob/job.c flux_job_waitstatus_to_exitcode
function exitReport(status) {
  const sig = status & 0x7f;
  if (sig !== 0 && sig !== 0x7f) return [sig + 128, `job shell ${SIGNAL_NAMES[sig] ?? `Signal ${sig}`}`];
  const code = (status >> 8) & 0xff;
  if (code > 128) return [code, `task(s) ${SIGNAL_NAMES[code - 128] ?? `Signal ${code - 128}`}`];
  if (code > 0) return [code, `task(s) exited with exit code ${code}`];
  return [0, undefined];
}

export async function attach(dir, args, io) {
  const { opts, rest } = parseOptions(args, {
    "read-only": { short: "r" },
    "label-io": { short: "l" },
    quiet: { short: "q" },
    verbose: { short: "v" },
    "show-events": { short: "E" },
    "show-exec": { short: "X" },
    "show-status": {},
    "wait-event": { short: "w", arg: true },
    unbuffered: { short: "u" },
    "stdin-ranks": { short: "i", arg: true },
    tail: { arg: true },
    debug: {},
  });
  if (rest.length !== 1) throw new Exit(1, "Usage: flux-job attach [OPTIONS] id\n");
  const text = rest[0];
  const id = parseJobId(text);
  if (id === undefined) throw new Exit(1, `flux-job: error parsing jobid: "${text}"\n`);
  if (!jobExists(dir, id)) throw new Exit(1, `flux-job: Failed to attach to ${text}: No such job\n`);
  const outPath = `${jobDir(dir, id)}/guest.output`;
  let t0;
  let exitCode = 1;
  let fatal = false;
  let mainDone = false;
  let seenMain = 0;
  let seenOut = 0;
  const eof = { stdout: new Set(), stderr: new Set() };
  let expected;
  for (;;) {
    const evs = events(dir, id);
    for (const e of evs.slice(seenMain)) {
      t0 ??= e.timestamp;
      if (e.name === "exception") {
        const c = e.context;
        io.stderr(`${(e.timestamp - t0).toFixed(3)}s: job.exception ${text} type=${c.type} severity=${c.severity} ${c.note ?? ""}\n`);
        if (c.severity === 0) fatal = true;
      } else if (e.name === "finish") {
        const [code, report] = exitReport(e.context.status);
        exitCode = code;
        if (report) io.stderr(`flux-job: ${report}\n`);
      }
      if (e.name === (opts["wait-event"] ?? "finish") || e.name === "clean") mainDone = true;
    }
    seenMain = evs.length;
    const inactive = evs.some((e) => e.name === "clean");
    const out = readLines(outPath);
    if (out) {
      for (const e of out.slice(seenOut)) {
        const c = e.context ?? {};
        if (e.name === "header") expected = c.count;
        else if (e.name === "data") {
          if (c.data !== undefined) {
            const bytes = c.encoding === "base64" ? Buffer.from(c.data, "base64") : Buffer.from(c.data, "utf8");
            const label = opts["label-io"] ? `${c.rank}: ` : "";
            (c.stream === "stdout" ? io.stdout : io.stderr)(Buffer.concat([Buffer.from(label), bytes]));
          }
          if (c.eof) eof[c.stream]?.add(c.rank);
        } else if (e.name === "log" && !opts.quiet) {
          const label = LEVELS[c.level];
          const rank = c.rank !== undefined && c.rank >= 0 ? `[${c.rank}]` : "";
          io.stderr(`${(e.timestamp - t0).toFixed(3)}s: flux-shell${rank}${label ? `: ${label}` : ""}${c.component ? `: ${c.component}` : ""}: ${c.message}\n`);
        }
      }
      seenOut = out.length;
    }
    const outputDone = !out || inactive || (expected !== undefined && eof.stdout.size >= expected.stdout && eof.stderr.size >= expected.stderr);
    // Before the job starts there is no output to wait for; once it is inactive the output watch ends (ENODATA).
    if (mainDone && outputDone) break;
    await sleep(20);
  }
  if (fatal && exitCode === 0) exitCode = 1;
  return exitCode;
}
