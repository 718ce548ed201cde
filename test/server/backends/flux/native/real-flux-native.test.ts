/**
 * The native transport against a real Flux instance: submit, get, list, cancel, watch,
 * guest.output, many in flight. Runs only when FLUX_URI names a local:// broker that
 * completes the handshake; otherwise every test is skipped with the reason. Set
 * FLUX_RESTFUL_TEST_RESTART_CMD to a shell command that restarts that instance (same
 * FLUX_URI) to also check that the transport survives a restart under it.
 */
import { execSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isJobInactiveError } from "../../../../../server/backends/backend-errors.js";
import { buildJobspec } from "../../../../../server/backends/flux/index.js";
import { createNativeFluxCalls, type NativeFluxCalls } from "../../../../../server/backends/flux/native/index.js";
import { createSilentLogger } from "../../../../../server/logger.js";
import { jobRequest } from "../../../../support/backend-contract-helpers.js";
import { realBroker } from "./real-broker.js";

const target = await realBroker();

if ("skip" in target) {
  process.emitWarning(`real-Flux native transport tests skipped: ${target.skip}`, { code: "FLUX_RESTFUL_REAL_FLUX_SKIPPED" });
  describe("native transport against a real Flux instance", () => {
    it.skip(`skipped: ${target.skip}`, () => {});
  });
} else {
  describe("native transport against a real Flux instance", () => {
    const fluxUri = target.uri;
    const spec = (command: string[]) =>
      JSON.stringify(buildJobspec(jobRequest(command), { environment: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, defaultCwd: "/tmp" }));
    const withCalls = async (fn: (calls: NativeFluxCalls) => Promise<void>) => {
      const calls = createNativeFluxCalls({ fluxUri, logger: createSilentLogger(), reconnectMaxMs: 500 });
      try {
        await fn(calls);
      } finally {
        await calls.close();
      }
    };
    const names = async (calls: NativeFluxCalls, id: bigint) => {
      const out: string[] = [];
      for await (const e of calls.watchEvents(id, AbortSignal.timeout(30_000))) out.push(e.name);
      return out;
    };

    it("submits, gets, lists and watches a job to its end", () =>
      withCalls(async (calls) => {
        expect((await calls.ping()).ownerUid).toBe(process.getuid!());
        const id = await calls.submit(spec(["true"]), { urgency: 16 });
        expect((await calls.get(id)).id).toBe(id);
        expect((await names(calls, id)).at(-1)).toBe("clean");
        expect((await calls.get(id)).state).toBe(64);
        expect((await calls.list({ allUsers: false })).some((j) => j.id === id)).toBe(true);
      }));

    it("cancels a running job, then refuses a second cancel", () =>
      withCalls(async (calls) => {
        const id = await calls.submit(spec(["sleep", "60"]), { urgency: 16 });
        await calls.cancel(id, "real-flux native test");
        const seen = await names(calls, id);
        expect(seen).toContain("exception");
        expect(seen.at(-1)).toBe("clean");
        await expect(calls.cancel(id, "")).rejects.toSatisfy(isJobInactiveError);
      }));

    it("watches guest.output until the output is final", () =>
      withCalls(async (calls) => {
        const id = await calls.submit(spec(["echo", "hi-from-native"]), { urgency: 16 });
        let text = "";
        for await (const e of calls.watchEventlog(id, "output", AbortSignal.timeout(30_000))) if (typeof e.context?.data === "string") text += e.context.data;
        expect(text).toBe("hi-from-native\n");
      }));

    it("keeps 64 submissions in flight with no errors", () =>
      withCalls(async (calls) => {
        const ids = await Promise.all(Array.from({ length: 64 }, () => calls.submit(spec(["true"]), { urgency: 16 })));
        expect(new Set(ids).size).toBe(64);
      }));

    it("follows the job manager's journal: a replay with an earlier job's jobspec, then a new job's", () =>
      withCalls(async (calls) => {
        const withOwner = (command: string[]) => {
          const jobspec = JSON.parse(spec(command)) as { attributes: { user?: unknown } };
          jobspec.attributes.user = { flux_restful: { owner: "journal-tester" } };
          return JSON.stringify(jobspec);
        };
        const earlier = await calls.submit(withOwner(["echo", "earlier"]), { urgency: 16 });
        const stop = new AbortController();
        const seen = new Map<bigint, unknown>();
        let caughtUp = false;
        let later: bigint | undefined;
        try {
          for await (const notice of calls.followJobspecs(AbortSignal.any([stop.signal, AbortSignal.timeout(30_000)]))) {
            if (notice.kind === "caught-up") {
              caughtUp = true;
              expect(seen.has(earlier)).toBe(true);
              later = await calls.submit(withOwner(["echo", "later"]), { urgency: 16 });
              if (seen.has(later)) break;
              continue;
            }
            seen.set(notice.id, notice.jobspec);
            if (later !== undefined && notice.id === later) break;
          }
        } finally {
          stop.abort();
        }
        expect(caughtUp).toBe(true);
        expect(seen.get(earlier)).toMatchObject({ tasks: [{ command: ["echo", "earlier"] }], attributes: { user: { flux_restful: { owner: "journal-tester" } } } });
        expect(seen.get(later!)).toMatchObject({ tasks: [{ command: ["echo", "later"] }] });
        // The journal's jobspec is redacted: no environment.
        expect(JSON.stringify(seen.get(earlier))).not.toContain('"environment"');
      }));

    const restart = process.env.FLUX_RESTFUL_TEST_RESTART_CMD;
    it.skipIf(!restart)(`survives the instance restarting under it${restart ? "" : " (skipped: FLUX_RESTFUL_TEST_RESTART_CMD is not set)"}`, () =>
      withCalls(async (calls) => {
        await calls.ping();
        execSync(restart!, { stdio: "ignore", timeout: 60_000 });
        const deadline = Date.now() + 60_000;
        for (;;) {
          try {
            await calls.ping();
            break;
          } catch (e) {
            if (Date.now() > deadline) throw e;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        expect(await calls.submit(spec(["true"]), { urgency: 16 })).toBeTypeOf("bigint");
      }), 120_000);
  });
}
