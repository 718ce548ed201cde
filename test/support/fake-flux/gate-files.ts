/**
 * Gate files hold a test's job at a point until the test has seen what it needs (a line
 * arrive, a state): the job waits for a file the test creates. A fixed `sleep` in the job
 * instead races the test on a loaded machine.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Shell text defining `wait_gate FILE`: returns once FILE exists, or once its directory is
 * gone (the test cleaned up: every gate counts as open, so no job is left waiting). It
 * gives up after about 15 s (longer on a busy machine) with a line on stderr and exit 9, so
 * a gate passed by giving up shows in the job's output instead of passing as if the test
 * had opened it.
 */
export const WAIT_GATE_SH =
  'wait_gate() { n=0; while [ ! -e "$1" ] && [ -d "${1%/*}" ]; do n=$((n+1)); if [ "$n" -gt 300 ]; then echo "gave up waiting for $1" >&2; exit 9; fi; sleep 0.05; done; }; ';

export interface GateFiles {
  /** The file gate `name` waits for. */
  path(name: string): string;
  /** Opens gate `name` (idempotent). */
  open(name: string): void;
  /** Removes the directory, which opens every gate; call it in finally so no job is left waiting. */
  close(): void;
}

export function createGateFiles(names: readonly string[]): GateFiles {
  const dir = mkdtempSync(path.join(realpathSync(os.tmpdir()), "gates-"));
  const pathOf = (name: string) => {
    if (!names.includes(name)) throw new Error(`no gate named "${name}"`);
    return path.join(dir, name);
  };
  return {
    path: pathOf,
    open: (name) => writeFileSync(pathOf(name), ""),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
