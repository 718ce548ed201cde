/**
 * A fake broker that answers at once, from templates, for measuring the transport itself
 * (bench/flux-transport.ts): submissions get fresh ids past 2^53 without running anything,
 * and job-list holds `jobs` records shaped like the recorded 0.88 ones. Not Flux: a real
 * broker spends ~80 ms per submission in ingest, KVS commit and job-manager.
 */
import { type BrokerHandler } from "./fake-broker.js";
import { createRecordedHandler, loadExchanges } from "./recorded-handler.js";

export interface SyntheticHandlerOptions {
  /** Jobs job-list reports. Defaults to 1000. */
  jobs?: number;
}

export function createSyntheticHandler(options: SyntheticHandlerOptions = {}): BrokerHandler {
  const exchanges = loadExchanges();
  const payloadOf = (name: string) => exchanges.find((e) => e.name === name)!.responses![0]!.payload!;
  const recorded = createRecordedHandler(exchanges.filter((e) => e.request.topic !== "attr.get" || e.request.payload?.name !== "security.owner"));
  const uid = process.getuid?.() ?? 0;
  const template = (JSON.parse(payloadOf("list-id completed")) as { job: Record<string, unknown> }).job;
  const jobspecLookup = JSON.parse(payloadOf("lookup jobspec")) as { jobspec: string };
  let next = 1n << 54n;
  const firstId = next;
  const count = options.jobs ?? 1000;
  const recordText = (i: number) => JSON.stringify({ ...template, id: 0, userid: uid, name: `job${i}`, t_submit: 1795935317.99 + i }).replace('"id":0', `"id":${firstId - BigInt(count) + BigInt(i)}`);
  const listText = `{"jobs":[${Array.from({ length: count }, (_, i) => recordText(count - 1 - i)).join(",")}]}`;

  return (req, res, broker) => {
    switch (req.topic) {
      case "attr.get":
        if (req.payload?.name === "security.owner") return res.ok({ value: String(uid), flags: 1 });
        break;
      case "job-ingest.submit":
        return res.ok({ id: next++ });
      case "job-list.list":
        return res.ok(listText);
      case "job-list.list-id":
        return res.ok(`{"job":${recordText(0).replace(/"id":\d+/, `"id":${String(req.payload?.id)}`)}}`);
      case "job-info.lookup":
        if (Array.isArray(req.payload?.keys) && req.payload.keys[0] === "jobspec") return res.ok({ id: req.payload.id!, jobspec: jobspecLookup.jobspec });
        break;
    }
    return recorded(req, res, broker);
  };
}
