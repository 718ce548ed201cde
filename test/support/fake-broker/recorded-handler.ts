/**
 * Answers requests from recorded exchanges (./exchanges/*.json): the first exchange whose
 * topic matches and whose recorded request payload keys equal the request's gets to
 * answer with its responses, in order. A topic nobody recorded gets ENOSYS as the broker
 * answers an unknown service; a recorded topic with an unrecorded payload gets EPROTO
 * naming the request, so a test fails saying what it sent.
 *
 * Response kinds: { payload } (exact JSON text), {} (empty success), { errnum, error? },
 * { hold: true } (the stream stays open until its "-cancel" request, then ENODATA),
 * { close: true } (the connection drops), { partialBytes, payload } (a torn frame, then a drop),
 * { delayMs } before any of them.
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { isJsonObject, parseExactJson, type ExactJson } from "../../../server/backends/flux/exact-json.js";
import { stringify, type BrokerHandler, type FakeRequest, type Responder } from "./fake-broker.js";

export interface RecordedResponse {
  payload?: string;
  errnum?: number;
  error?: string;
  hold?: boolean;
  close?: boolean;
  partialBytes?: number;
  delayMs?: number;
}

export interface RecordedExchange {
  name: string;
  source?: string;
  request: { topic: string; payload?: { [key: string]: ExactJson } };
  /** broker.ping: the request payload back, plus route, userid, rolemask and rank. */
  echo?: boolean;
  responses?: RecordedResponse[];
}

export const RECORDED_0_88 = fileURLToPath(new URL("./exchanges/flux-core-0.88.json", import.meta.url));

/** Loads an exchanges file with exact integers (job ids past 2^53 stay exact). */
export function loadExchanges(file = RECORDED_0_88): RecordedExchange[] {
  const doc = parseExactJson(fs.readFileSync(file, "utf8"));
  if (!isJsonObject(doc) || !Array.isArray(doc.exchanges)) throw new Error(`not an exchanges file: ${file}`);
  return doc.exchanges as unknown as RecordedExchange[];
}

const canonical = (v: ExactJson | undefined): string => stringify(typeof v === "number" && Number.isInteger(v) ? BigInt(v) : v);

function matches(ex: RecordedExchange, req: FakeRequest): boolean {
  if (ex.request.topic !== req.topic) return false;
  for (const [k, v] of Object.entries(ex.request.payload ?? {})) {
    if (canonical(req.payload?.[k]) !== canonical(v)) return false;
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RecordedHandlerOptions {
  /** Called for every "<topic>-cancel" request after the stream it names has ended. */
  onCancel?: (req: FakeRequest) => void;
}

export function createRecordedHandler(exchanges: RecordedExchange[], options: RecordedHandlerOptions = {}): BrokerHandler {
  return async (req, res, broker) => {
    if (req.topic.endsWith("-cancel") && !exchanges.some((e) => e.request.topic === req.topic)) {
      // job-info and job-manager end the named stream with ENODATA; the cancel itself gets no reply.
      const tag = req.payload?.matchtag;
      const stream = typeof tag === "number" ? broker.openStream(req.connection, tag) : undefined;
      stream?.end();
      options.onCancel?.(req);
      return;
    }
    const ex = exchanges.find((e) => matches(e, req));
    if (!ex) {
      if (!exchanges.some((e) => e.request.topic === req.topic)) {
        res.error(38, `No service matching ${req.topic} is registered`);
      } else {
        res.error(71, `fake broker: no recorded exchange for ${req.topic} ${req.payloadText ?? ""}`);
      }
      return;
    }
    if (ex.echo) {
      const payload = { ...(req.payload ?? {}), route: "fake-broker", userid: process.getuid?.() ?? 0, rolemask: 5, rank: 0 };
      res.ok(payload);
      return;
    }
    await play(ex.responses ?? [], res);
  };
}

async function play(responses: RecordedResponse[], res: Responder): Promise<void> {
  for (const r of responses) {
    if (r.delayMs !== undefined) await sleep(r.delayMs);
    if (res.done) return;
    if (r.hold) return; // the stream ends when its cancel arrives
    if (r.close) {
      res.closeConnection();
      return;
    }
    if (r.partialBytes !== undefined) {
      res.partialThenClose(r.payload ?? "{}", r.partialBytes);
      return;
    }
    if (r.errnum !== undefined && r.errnum !== 0) {
      if (r.errnum === 61 && r.error === undefined) res.end();
      else res.error(r.errnum, r.error);
      return;
    }
    res.ok(r.payload);
  }
}
