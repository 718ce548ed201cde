/**
 * The fake broker as a whole (fake) instance: it answers the RPCs the native transport
 * sends from the state directory of a stand-in flux (test/support/fake-flux), so jobs
 * submitted over the socket really run, and `flux job attach` (the stand-in command) sees
 * them. This is what lets the JobBackend contract suite run over the native transport.
 * Answers follow the broker's: payload shapes of ./exchanges/flux-core-0.88.json, errnos
 * and texts of the flux-core modules named in each branch.
 */
import fs from "node:fs";
import { isJsonObject, type ExactJson } from "../../../server/backends/flux/exact-json.js";
import { unwrapNone } from "../../../server/backends/flux/native/sign-none.js";
import { stringify, type BrokerHandler, type FakeRequest, type Responder } from "./fake-broker.js";
import { loadFakeFluxLib, type FakeExit, type FakeFluxLib } from "./fake-flux-lib.js";

const ENOENT = 2;
const EPERM = 1;
const EINVAL = 22;
const ENOSYS = 38;
const EPROTO = 71;

export interface InstanceHandlerOptions {
  /** The stand-in flux's state directory (FakeFlux.dir). */
  dir: string;
  /** The broker's "version" attribute. Defaults to "0.88.0-fake-broker". */
  version?: string;
  /** How often a watch looks for new eventlog lines. Defaults to 20 ms. */
  pollMs?: number;
  /**
   * How often an open journal looks for new jobs (it lists every job directory, and every
   * backend keeps one open). Defaults to 100 ms; a backend reads a job it lists before the
   * journal brings it.
   */
  journalPollMs?: number;
}

const isExit = (e: unknown): e is FakeExit => e instanceof Error && typeof (e as FakeExit).stderr === "string";
/** "flux-job: raise ƒX: job is inactive\n" -> "job is inactive". */
const lastWords = (stderr: string) => stderr.trim().split("\n").at(-1)!.replace(/^flux-job: (raise \S+: )?/, "");

export async function createInstanceHandler(options: InstanceHandlerOptions): Promise<BrokerHandler> {
  const lib = await loadFakeFluxLib();
  const { dir } = options;
  const uid = process.getuid?.() ?? 0;
  const pollMs = options.pollMs ?? 20;
  const journalPollMs = options.journalPollMs ?? 100;

  const idOf = (req: FakeRequest): bigint | undefined => {
    const id = req.payload?.id;
    return typeof id === "bigint" ? id : typeof id === "number" ? BigInt(id) : undefined;
  };

  const handlers: Record<string, (req: FakeRequest, res: Responder) => void | Promise<void>> = {
    "broker.ping": (req, res) => res.ok({ ...(req.payload ?? {}), route: "fake-broker", userid: uid, rolemask: 5, rank: 0 }),

    "attr.get": (req, res) => {
      const attrs: Record<string, [string, number]> = { version: [options.version ?? "0.88.0-fake-broker", 0], "security.owner": [String(uid), 1], rank: ["0", 1] };
      const a = attrs[String(req.payload?.name)];
      if (!a) res.error(ENOENT);
      else res.ok({ value: a[0], flags: a[1] });
    },

    "config.get": (_req, res) => res.ok(lib.loadConfig(dir).fluxConfig ?? {}),

    // job-ingest.c: the signer must be the requestor, and mechanism none is for the owner only.
    "job-ingest.submit": async (req, res) => {
      const J = req.payload?.J;
      const unwrapped = typeof J === "string" ? unwrapNone(J) : undefined;
      if (!unwrapped) return res.error(EINVAL, "invalid signature");
      if (unwrapped.userid !== uid) return res.error(EPERM, `signer=${unwrapped.userid} != requestor=${uid}`);
      const urgency = Number(req.payload?.urgency ?? 16);
      try {
        const out = await lib.submit(dir, [`--urgency=${urgency}`], { FLUX_F58_FORCE_ASCII: "1" }, async () => unwrapped.jobspec);
        res.ok({ id: lib.parseJobId(out.trim())! });
      } catch (e) {
        if (!isExit(e)) throw e;
        res.error(EINVAL, lastWords(e.stderr));
      }
    },

    "job-list.list": (req, res) => {
      const constraint = req.payload?.constraint;
      const max = Number(req.payload?.max_entries ?? 0);
      const recs = lib.sortRecords(lib.allJobIds(dir).map((id) => lib.jobRecord(dir, id)).filter((r) => matchesConstraint(lib, r, constraint)));
      const chosen = max > 0 ? recs.slice(0, max) : recs;
      res.ok(`{"jobs":[${chosen.map((r) => lib.dumpJson(r, false)).join(",")}]}`);
    },

    // list.c list_id_cb: ENOENT (no text) for a job job-list never saw.
    "job-list.list-id": (req, res) => {
      const id = idOf(req);
      if (id === undefined || !lib.jobExists(dir, id)) return res.error(ENOENT);
      res.ok(`{"job":${lib.dumpJson(lib.jobRecord(dir, id), false)}}`);
    },

    // lookup.c: "invalid job id" / "<key>: key not found", both ENOENT.
    "job-info.lookup": (req, res) => {
      const id = idOf(req);
      const keys = req.payload?.keys;
      if (id === undefined || !Array.isArray(keys) || typeof keys[0] !== "string") return res.error(EPROTO);
      if (!lib.jobExists(dir, id)) return res.error(ENOENT, "invalid job id");
      const key = keys[0];
      if (key === "jobspec") return res.ok({ id, jobspec: lib.info(dir, [id.toString(), "jobspec"]).trimEnd() });
      const file = `${lib.jobDir(dir, id)}/${key}`;
      if (!["eventlog", "guest.output", "guest.exec.eventlog"].includes(key) || !fs.existsSync(file)) return res.error(ENOENT, `${key}: key not found`);
      res.ok({ id, [key]: fs.readFileSync(file, "utf8") });
    },

    "job-info.eventlog-watch": (req, res) => watch(req, res),

    "job-manager.events-journal": (req, res) => journal(req, res),

    "job-info.eventlog-watch-cancel": () => {
      // handled below: it needs the broker to find the stream
    },

    // raise.c: ENOENT "unknown job id" / "job is inactive".
    "job-manager.raise": (req, res) => {
      const id = idOf(req);
      if (id === undefined) return res.error(EPROTO);
      const args = [`--type=${String(req.payload?.type ?? "cancel")}`, `--severity=${String(req.payload?.severity ?? 0)}`];
      if (typeof req.payload?.note === "string") args.push(`--message=${req.payload.note}`);
      try {
        lib.raise(dir, [...args, id.toString()]);
        res.ok();
      } catch (e) {
        if (!isExit(e)) throw e;
        res.error(ENOENT, lastWords(e.stderr));
      }
    },

    "resource.sched-status": (_req, res) => {
      const R = (state: string) => lib.resource(dir, ["R", "-s", state]).trim();
      res.ok(`{"all":${R("all")},"allocated":${R("allocated")},"down":${R("down")}}`);
    },

    "resource.status": (_req, res) => {
      const drained = lib.loadConfig(dir).drained ?? [];
      const drain = drained.length === 0 ? {} : { [drained.join(",")]: { timestamp: 0, reason: "" } };
      res.ok(`{"R":${lib.resource(dir, ["R", "-s", "all"]).trim()},"drain":${stringify(drain)},"online":"","offline":"","exclude":"","torpid":""}`);
    },
  };

  // watch.c / guest_watch.c: every line, then ENODATA after "clean" (main eventlog) or once
  // the job is inactive (guest eventlogs); ENOENT for an unknown job, or for a guest
  // eventlog not yet created without WAITCREATE.
  async function watch(req: FakeRequest, res: Responder): Promise<void> {
    const id = idOf(req);
    const path = String(req.payload?.path ?? "");
    const waitcreate = (Number(req.payload?.flags ?? 0) & 1) !== 0;
    if (id === undefined) return res.error(EPROTO);
    if (!lib.jobExists(dir, id)) return res.error(ENOENT);
    const file = `${lib.jobDir(dir, id)}/${path}`;
    if (!fs.existsSync(file) && !waitcreate && path !== "eventlog") return res.error(ENOENT);
    let sent = 0;
    let stopped = false;
    res.onClose(() => (stopped = true));
    while (!stopped && !res.done) {
      const inactive = lib.stateOf(lib.events(dir, id)) === 64;
      let text = "";
      try {
        text = fs.readFileSync(file, "utf8");
      } catch {
        // not created yet
      }
      // A last line without its "\n" is still being appended: it goes out on the next round.
      const lines = text.split("\n").slice(0, -1).filter((l) => l !== "");
      for (const line of lines.slice(sent)) {
        res.ok({ event: `${line}\n` });
        if (path === "eventlog" && JSON.parse(line).name === "clean") return res.end();
      }
      sent = lines.length;
      if (path !== "eventlog" && inactive) return res.end();
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  // job-manager/journal.c: with "full", every job with its redacted jobspec (the environment
  // removed) and its allowed events, a sentinel {"id":-1,"events":[]}, then one response per
  // new event until cancelled. Only the submit event is modelled: it is what carries a jobspec.
  async function journal(req: FakeRequest, res: Responder): Promise<void> {
    if (!req.streaming) return res.error(EPROTO, "job-manager.events requires streaming RPC flag");
    const allow = req.payload?.allow;
    const submitAllowed = allow === undefined || (isJsonObject(allow) && allow.submit !== undefined);
    const full = req.payload?.full === true;
    const sent = new Set<bigint>();
    const entry = (id: bigint): string | undefined => {
      try {
        const spec = lib.info(dir, [id.toString(), "jobspec"]).trim();
        const submit = fs.readFileSync(`${lib.jobDir(dir, id)}/eventlog`, "utf8").split("\n")[0]!;
        return `{"id":${id},"events":[${submitAllowed ? submit : ""}],"jobspec":${spec}}`;
      } catch {
        return undefined; // a job still being written: the next poll sends it
      }
    };
    for (const id of lib.allJobIds(dir)) {
      if (!full && lib.stateOf(lib.events(dir, id)) === 64) continue;
      const text = entry(id);
      if (text === undefined) continue;
      sent.add(id);
      res.ok(text);
    }
    res.ok('{"id":-1,"events":[]}');
    let stopped = false;
    res.onClose(() => (stopped = true));
    while (!stopped && !res.done) {
      await new Promise((r) => setTimeout(r, journalPollMs));
      for (const id of lib.allJobIds(dir)) {
        if (sent.has(id) || res.done) continue;
        const text = entry(id);
        if (text === undefined) continue;
        sent.add(id);
        if (submitAllowed) res.ok(text);
      }
    }
  }

  return (req, res, broker) => {
    if (req.topic.endsWith("-cancel")) {
      const tag = req.payload?.matchtag;
      if (typeof tag === "number") broker.openStream(req.connection, tag)?.end();
      return;
    }
    const h = handlers[req.topic];
    if (!h) return res.error(ENOSYS, `No service matching ${req.topic} is registered`);
    return h(req, res);
  };
}

/** RFC 31 as job-list's match.c reads it, over a record of the stand-in's job-list. */
function matchesConstraint(lib: FakeFluxLib, rec: Record<string, unknown>, c: ExactJson | undefined): boolean {
  if (c === undefined || !isJsonObject(c)) return true;
  const [op, values] = Object.entries(c)[0] ?? [];
  if (op === undefined || !Array.isArray(values)) return true;
  const num = (v: unknown) => lib.numberOf(v) ?? 0;
  switch (op) {
    case "and":
      return values.every((v) => matchesConstraint(lib, rec, v));
    case "or":
      return values.some((v) => matchesConstraint(lib, rec, v));
    case "not":
      return !matchesConstraint(lib, rec, values[0]);
    case "userid":
      return values.some((u) => Number(u) === -1 || Number(u) === 4294967295 || Number(u) === num(rec.userid));
    case "states":
      return (values.reduce<number>((m, s) => m | Number(s), 0) & num(rec.state)) !== 0;
    case "results":
      return num(rec.state) === 64 && (values.reduce<number>((m, s) => m | Number(s), 0) & num(rec.result)) !== 0;
    case "name":
    case "queue":
      return values.includes(rec[op] as string);
    default: {
      const m = /^(>=|<=|>|<)(.*)$/.exec(String(values[0]));
      if (!op.startsWith("t_") || !m) return true;
      const t = num(rec[op]);
      const v = Number(m[2]);
      return m[1] === ">=" ? t >= v : m[1] === "<=" ? t <= v : m[1] === ">" ? t > v : t < v;
    }
  }
}
