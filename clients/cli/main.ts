/**
 * The flux-restful-cli process: runs the CLI with the real streams and environment, and
 * exits with its code. A closed stdout (`... | head`) ends the process quietly.
 */
import { runCli } from "./run.js";

process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
});

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, process.env);
// Streams that were aborted may still be closing; nothing else is left to wait for.
process.exit(code);
