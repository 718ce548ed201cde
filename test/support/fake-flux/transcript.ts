/**
 * Reads a recorded `flux` transcript (copied from ../shared/flux-reference; format in
 * transcripts/README.md): the command, its exact stdout and stderr, and its exit code.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface Transcript {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
  note: string;
}

const DIR = fileURLToPath(new URL("./transcripts/", import.meta.url));

export function transcriptPath(name: string): string {
  return DIR + name;
}

export function readTranscript(name: string): Transcript {
  const text = readFileSync(DIR + name, "utf8");
  const command = /^# command: (.*) \| exit code: (\d+) \|/m.exec(text);
  if (!command) throw new Error(`${name}: not a transcript`);
  const section = (label: "stdout" | "stderr", next: RegExp): string => {
    const start = new RegExp(`^# ----- ${label} \\(\\d+ bytes\\) -----\\n`, "m").exec(text);
    if (!start) throw new Error(`${name}: no ${label} section`);
    const from = start.index + start[0].length;
    const end = next.exec(text.slice(from));
    if (!end) throw new Error(`${name}: ${label} section does not end`);
    let body = text.slice(from, from + end.index);
    const noNewline = `\n# (${label} had no trailing newline)\n`;
    if (body.endsWith(noNewline)) body = body.slice(0, -noNewline.length);
    return body;
  };
  return {
    command: command[1]!,
    exitCode: Number(command[2]),
    stdout: section("stdout", /^# ----- stderr \(\d+ bytes\) -----\n/m),
    stderr: section("stderr", /^# ----- exit code: \d+ -----$/m),
    note: /^# note: (.*)$/m.exec(text)?.[1] ?? "",
  };
}

/** A reference file that is not a transcript (e.g. jobspec-echo-hi.json). */
export function readReferenceFile(name: string): string {
  return readFileSync(DIR + name, "utf8");
}
