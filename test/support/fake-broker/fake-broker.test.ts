/**
 * The fake broker's own checks: its recorded exchanges still say what the transcripts in
 * ../shared/flux-reference say (so "recorded" stays true), and its framing matches the
 * bytes the real broker sent (flux-wire.md) independently of the transport's codec.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FLUX_REFERENCE_DIR } from "../reference-dir.js";
import { startFakeBroker } from "./fake-broker.js";
import { createRecordedHandler, loadExchanges } from "./recorded-handler.js";
import { createWireReader, writeFrame, type WireMessage } from "./wire.js";

function stdoutOf(name: string): string {
  const text = fs.readFileSync(path.join(FLUX_REFERENCE_DIR, name), "utf8");
  return /# ----- stdout \(\d+ bytes\) -----\n([\s\S]*?)# ----- stderr/.exec(text)![1]!;
}

describe("fake broker", () => {
  it("answers with payloads found verbatim in the transcripts they cite", () => {
    const exchanges = loadExchanges();
    let checked = 0;
    for (const ex of exchanges) {
      const file = /^([\w.-]+\.txt)\b/.exec(ex.source ?? "")?.[1];
      if (!file) continue;
      const out = stdoutOf(file);
      for (const r of ex.responses ?? []) {
        if (r.payload === undefined) continue;
        const value = JSON.parse(r.payload) as Record<string, unknown>;
        // Raw RPC payloads appear as they are; eventlog lines, jobspecs and whole eventlogs inside a wrapper.
        const strings = Object.values(value).filter((v): v is string => typeof v === "string").sort((x, y) => y.length - x.length);
        const inner = strings[0];
        expect(out.includes(r.payload) || (inner !== undefined && out.includes(inner.trimEnd())), `${ex.name}: payload not in ${file}`).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("speaks the framing of the real broker: handshake byte, then the ping reply to the documented request", async () => {
    const broker = await startFakeBroker({ handler: createRecordedHandler(loadExchanges()) });
    try {
      const sock = net.createConnection(broker.socketPath);
      const got: WireMessage[] = [];
      let handshake: number | undefined;
      const read = createWireReader((m) => got.push(m), (why) => got.push({ topic: why } as WireMessage));
      sock.on("data", (d: Buffer) => {
        if (handshake === undefined) {
          handshake = d[0];
          d = d.subarray(1);
        }
        read(d);
      });
      // The 46-byte broker.ping request of flux-wire.md, byte for byte.
      const request = Buffer.concat([Buffer.from("1200eeff0000002600" + "0b", "hex"), Buffer.from("broker.ping"), Buffer.from("037b7d00148e01010bffffffff00000000ffffffff00000007", "hex")]);
      expect(request.length).toBe(46);
      sock.write(request);
      await expect.poll(() => got.length, { timeout: 10_000, interval: 10 }).toBeGreaterThan(0);
      sock.destroy();
      expect(handshake).toBe(0);
      expect(got[0]).toMatchObject({ type: 2, flags: 0x0b, aux1: 0, aux2: 7, topic: "broker.ping", routes: [] });
      expect(JSON.parse(got[0]!.payload!.subarray(0, -1).toString())).toMatchObject({ rolemask: 5 });
      expect(broker.requests[0]).toMatchObject({ topic: "broker.ping", matchtag: 7, payloadText: "{}" });
    } finally {
      await broker.stop();
    }
  });

  it("writes the documented job-ingest.submit reply bytes", () => {
    const frame = writeFrame({ type: 2, flags: 0x0b, userid: 0, rolemask: 5, aux1: 0, aux2: 1, routes: [], topic: "job-ingest.submit", payload: Buffer.from('{"id":24516629626880}\0') });
    const body = Buffer.concat([Buffer.from("0011", "hex"), Buffer.from("job-ingest.submit"), Buffer.from("16", "hex"), Buffer.from('{"id":24516629626880}\0'), Buffer.from("148e01020b000000000000000500000000" + "00000001", "hex")]);
    expect(frame.subarray(8)).toEqual(body);
    expect(frame.readUInt32BE(4)).toBe(body.length);
  });
});
