/**
 * Flux-specific checks against a real instance (FLUX_URI set, `flux` on PATH): the
 * jobspec equals what this flux-core's `flux submit --dry-run` prints, Flux's own
 * refusals map as with the transcripts, and attach streams are torn down. Skipped, with
 * the reason, when no instance is reachable. The contract suite's real-instance run is in
 * flux-contract.test.ts.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { createFluxBackend, createFluxCliCalls } from "../../../../server/backends/flux/index.js";
import { buildJobspec } from "../../../../server/backends/flux/jobspec.js";
import { createSilentLogger } from "../../../../server/logger.js";
import { jobRequest, thrown, waitForEvent, waitInactive } from "../../../support/backend-contract-helpers.js";
import { realFlux } from "./real-flux.js";

const real = realFlux();
const logger = createSilentLogger();

describe.skipIf(!real)(`flux backend against a real instance${real ? "" : " (skipped: FLUX_URI unset or no flux answering; see docs/flux-backend.md)"}`, () => {
  const env = real?.baseEnvironment ?? {};

  it("builds the jobspec `flux submit --dry-run` prints for the same request", () => {
    const args = ["submit", "--dry-run", "-n4", "-c2", "-N2", "--time-limit=90s", "--job-name=cmp", "--cwd=/tmp", "--env=-*", "--env=A=1", "-o", "verbose=1", "hostname"];
    const printed = JSON.parse(execFileSync("flux", args, { env, encoding: "utf8" })) as { attributes: { system: { shell: { options: { rlimit?: Record<string, number> } } } } };
    const rlimit = printed.attributes.system.shell.options.rlimit;
    const built = buildJobspec(
      jobRequest(["hostname"], { numTasks: 4, coresPerTask: 2, numNodes: 2, duration: 90, name: "cmp", cwd: "/tmp", environment: { A: "1" }, shellOptions: { verbose: "1" } }),
      { environment: { A: "1" }, defaultCwd: "/tmp", rlimit },
    );
    expect(JSON.parse(JSON.stringify(built))).toEqual(printed);
  });

  it("maps Flux's refusals: unknown id, inactive job, invalid jobspec", async () => {
    const calls = createFluxCliCalls({ fluxUri: real!.uri, baseEnvironment: env, logger });
    expect((await thrown(() => calls.cancel((1n << 62n) + 7n, ""))).name).toBe("JobNotFoundError");
    expect((await thrown(() => calls.get((1n << 62n) + 7n))).name).toBe("JobNotFoundError");
    expect((await thrown(() => calls.submit('{"version": 1}', { urgency: 16 }))).name).toBe("InvalidJobRequestError");
    const backend = createFluxBackend({ fluxUri: real!.uri, baseEnvironment: env, logger });
    const id = await backend.submit(jobRequest(["true"]), { name: "real" });
    await waitInactive(backend, id);
    expect((await thrown(() => backend.cancel(id, ""))).name).toBe("JobInactiveError");
    await backend.close();
  });

  it("stops 10 attach streams with SIGTERM and leaves no attach process", async () => {
    const backend = createFluxBackend({ fluxUri: real!.uri, baseEnvironment: env, logger });
    const id = await backend.submit(jobRequest(["sh", "-c", "echo ready; sleep 60"]), { name: "real" });
    await waitForEvent(backend, id, "start");
    const controllers = Array.from({ length: 10 }, () => new AbortController());
    const streams = controllers.map(async (c) => {
      for await (const item of backend.followOutput(id, 0, c.signal)) if (item.kind === "chunk") c.abort();
    });
    await Promise.all(streams);
    expect(backend.attach.activePids()).toEqual([]);
    await backend.cancel(id, "");
    await waitInactive(backend, id);
    await backend.close();
  });
});
