/**
 * FLUX_RESTFUL_FLUX_TRANSPORT: which transport the flux backend gets, and the reason
 * logged at startup, against the fake broker.
 */
import { afterEach, describe, expect, it } from "vitest";
import { selectFluxTransport, type FluxTransportChoice } from "../../../../../server/backends/flux/native/index.js";
import type { Logger } from "../../../../../server/logger.js";
import { startFakeBroker, type FakeBroker } from "../../../../support/fake-broker/fake-broker.js";
import { createRecordedHandler, loadExchanges, type RecordedExchange } from "../../../../support/fake-broker/recorded-handler.js";

let broker: FakeBroker | undefined;
let choice: FluxTransportChoice | undefined;
afterEach(async () => {
  await choice?.close();
  await broker?.stop();
  broker = undefined;
  choice = undefined;
});

function captureLogger() {
  const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const log = (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields });
  const logger: Logger = { debug() {}, info: log, warn: log, error: log, child: () => logger };
  return { logger, lines };
}

const cli = { submit: async () => 1n };
const uid = process.getuid!();
// The recorded instance is owned by root; the fake answers with the owner we say.
const ownedBy = (owner: number): RecordedExchange => ({ name: "owner", request: { topic: "attr.get", payload: { name: "security.owner" } }, responses: [{ payload: `{"value":"${owner}","flags":1}` }] });

async function brokerWith(...extra: RecordedExchange[]) {
  broker = await startFakeBroker({ handler: createRecordedHandler([...extra, ...loadExchanges()]) });
  return broker;
}

describe("flux transport selection", () => {
  it("uses the CLI when told to, without touching the socket", async () => {
    const b = await brokerWith(ownedBy(uid));
    const { logger, lines } = captureLogger();
    choice = await selectFluxTransport({ setting: "cli", fluxUri: b.uri, logger, cli });
    expect(choice).toMatchObject({ transport: "cli", reason: "FLUX_RESTFUL_FLUX_TRANSPORT=cli", calls: undefined });
    expect(b.requests).toHaveLength(0);
    expect(lines).toEqual([{ msg: "flux transport selected", fields: { transport: "cli", reason: "FLUX_RESTFUL_FLUX_TRANSPORT=cli" } }]);
  });

  it("picks native by default when the local:// broker answers, is supported and is ours", async () => {
    const b = await brokerWith(ownedBy(uid));
    const { logger, lines } = captureLogger();
    choice = await selectFluxTransport({ setting: "auto", fluxUri: b.uri, logger, cli });
    expect(choice.transport).toBe("native");
    expect(choice.reason).toBe(`auto: the broker at ${b.uri} answered the handshake (flux-core 0.88.0-59-g4a5e79f56, owner uid ${uid})`);
    expect(lines.at(-1)).toEqual({ msg: "flux transport selected", fields: { transport: "native", reason: choice.reason } });
    expect(await choice.calls!.get(199783088128n)).toMatchObject({ name: "printer" });
  });

  it.each([
    ["FLUX_URI is not set", undefined, "auto: FLUX_URI is not set, so `flux` finds the instance itself"],
    ["FLUX_URI is ssh://", "ssh://host/run/flux/local", 'auto: FLUX_URI "ssh://host/run/flux/local" is not a local:// socket'],
  ])("falls back to the CLI when %s", async (_name, fluxUri, reason) => {
    const { logger } = captureLogger();
    choice = await selectFluxTransport({ setting: "auto", fluxUri, logger, cli });
    expect(choice).toMatchObject({ transport: "cli", reason });
  });

  it("falls back to the CLI when nothing answers, when the broker refuses us, is too old, or is not ours", async () => {
    const { logger } = captureLogger();
    choice = await selectFluxTransport({ setting: "auto", fluxUri: "local:///nonexistent/local", logger, cli });
    expect(choice.transport).toBe("cli");
    expect(choice.reason).toMatch(/^auto: the flux broker is not reachable: cannot connect to the flux broker at "\/nonexistent\/local" \(ENOENT\)$/);

    const refusing = await brokerWith(ownedBy(uid));
    refusing.setHandshakeByte(1);
    expect((await selectFluxTransport({ setting: "auto", fluxUri: refusing.uri, logger, cli })).reason).toMatch(/refused the connection \(EPERM\)/);
    await refusing.stop();

    await brokerWith(ownedBy(uid), { name: "old", request: { topic: "attr.get", payload: { name: "version" } }, responses: [{ payload: '{"value":"0.50.1","flags":0}' }] });
    expect((await selectFluxTransport({ setting: "auto", fluxUri: broker!.uri, logger, cli })).reason).toMatch(/flux-core "0.50.1" is outside the native transport's supported range >= 0.61.0, < 1.0.0/);
    await broker!.stop();

    await brokerWith(ownedBy(uid + 1));
    const notOurs = await selectFluxTransport({ setting: "auto", fluxUri: broker!.uri, logger, cli });
    expect(notOurs).toMatchObject({ transport: "cli", calls: undefined });
    expect(notOurs.reason).toBe(`auto: the server (uid ${uid}) is not the instance owner (uid ${uid + 1}), and only the owner may submit over the socket without a munge signature`);
  });

  it("refuses to start with FLUX_RESTFUL_FLUX_TRANSPORT=native when native cannot work, saying why", async () => {
    const { logger } = captureLogger();
    await expect(selectFluxTransport({ setting: "native", fluxUri: undefined, logger, cli })).rejects.toThrow("FLUX_RESTFUL_FLUX_TRANSPORT=native cannot be used: FLUX_URI is not set");
    await expect(selectFluxTransport({ setting: "native", fluxUri: "local:///nonexistent/local", logger, cli })).rejects.toThrow(/cannot be used: the flux broker is not reachable/);
    const b = await brokerWith(ownedBy(uid));
    choice = await selectFluxTransport({ setting: "native", fluxUri: b.uri, logger, cli });
    expect(choice.reason).toMatch(/^FLUX_RESTFUL_FLUX_TRANSPORT=native: the broker at /);
  });

  it("sends submissions as another user to the CLI, its own over the socket", async () => {
    const b = await brokerWith(ownedBy(uid));
    const asUser: unknown[] = [];
    choice = await selectFluxTransport({ setting: "auto", fluxUri: b.uri, logger: captureLogger().logger, cli: { submit: async (_j, o) => (asUser.push(o), 5n) } });
    expect(await choice.calls!.submit("{}", { urgency: 16, asUser: "alice" })).toBe(5n);
    expect(await choice.calls!.submit("{}", { urgency: 16 })).toBe(24516629626880n);
    expect(asUser).toEqual([{ urgency: 16, asUser: "alice" }]);
  });
});
