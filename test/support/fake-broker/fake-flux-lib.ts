/**
 * Typed access to the stand-in flux's library (../fake-flux/lib, plain JavaScript), so the
 * fake broker's instance mode keeps the very state the stand-in `flux` command keeps: the
 * same job directories, eventlogs and job runner. Loaded by path, untyped, and given the
 * narrow types used here.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

const LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "fake-flux", "lib");

export interface FakeExit extends Error {
  code: number;
  stderr: string;
}

export interface FakeFluxLib {
  submit(dir: string, args: string[], env: Record<string, string>, stdin: () => Promise<string>): Promise<string>;
  raise(dir: string, args: string[]): string;
  info(dir: string, args: string[]): string;
  resource(dir: string, args: string[]): string;
  jobRecord(dir: string, id: bigint): Record<string, unknown>;
  allJobIds(dir: string): bigint[];
  sortRecords<T>(records: T[]): T[];
  jobExists(dir: string, id: bigint): boolean;
  jobDir(dir: string, id: bigint): string;
  events(dir: string, id: bigint): Array<{ name: string }>;
  stateOf(events: Array<{ name: string }>): number;
  loadConfig(dir: string): { drained?: number[]; fluxConfig?: Record<string, unknown>; nodes: unknown[] };
  parseJobId(text: string): bigint | undefined;
  dumpJson(value: unknown, spaced: boolean): string;
  /** A number as a Real (jansson %.17g) has `.value`; plain numbers pass through. */
  numberOf(v: unknown): number | undefined;
}

const load = (file: string): Promise<Record<string, unknown>> => import(path.join(LIB, file)) as Promise<Record<string, unknown>>;

let cached: Promise<FakeFluxLib> | undefined;

export function loadFakeFluxLib(): Promise<FakeFluxLib> {
  cached ??= (async () => {
    const [job, joblist, state, util, other] = await Promise.all([load("cmd-job.mjs"), load("joblist.mjs"), load("state.mjs"), load("util.mjs"), load("cmd-other.mjs")]);
    const Real = util.Real as new (v: number) => { value: number };
    return {
      submit: job.submit,
      raise: job.raise,
      info: job.info,
      resource: other.resource,
      jobRecord: joblist.jobRecord,
      allJobIds: joblist.allJobIds,
      sortRecords: joblist.sortRecords,
      jobExists: state.jobExists,
      jobDir: state.jobDir,
      events: state.events,
      stateOf: state.stateOf,
      loadConfig: state.loadConfig,
      parseJobId: util.parseJobId,
      dumpJson: util.dumpJson,
      numberOf: (v: unknown) => (v instanceof Real ? v.value : typeof v === "number" ? v : undefined),
    } as FakeFluxLib;
  })();
  return cached;
}
