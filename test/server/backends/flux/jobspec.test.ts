import { describe, expect, it } from "vitest";
import { isInvalidJobRequestError } from "../../../../server/backends/backend-errors.js";
import type { JobRequest } from "../../../../server/backends/backend.js";
import { buildJobspec } from "../../../../server/backends/flux/jobspec.js";
import { jobRequest } from "../../../support/backend-contract-helpers.js";
import { readReferenceFile, readTranscript } from "../../../support/fake-flux/transcript.js";

const request = jobRequest;

/** The dry-run jobspec of a transcript, and the environment and rlimits it carries. */
function dryRun(name: string) {
  const doc = JSON.parse(readTranscript(name).stdout) as {
    attributes: { system: { environment: Record<string, string>; cwd: string; shell: { options: { rlimit: Record<string, number> } } } };
  };
  return { doc, env: doc.attributes.system.environment, rlimit: doc.attributes.system.shell.options.rlimit, cwd: doc.attributes.system.cwd };
}

// JSON.stringify of both keeps key order, so this checks the same document, ordered the same.
const same = (built: unknown, recorded: unknown) => expect(JSON.stringify(built)).toBe(JSON.stringify(recorded));

describe("buildJobspec", () => {
  it("equals `flux submit --dry-run echo hi` (submit-dry-run.txt)", () => {
    const { doc, env, rlimit, cwd } = dryRun("submit-dry-run.txt");
    same(buildJobspec(request(["echo", "hi"]), { environment: env, defaultCwd: cwd, rlimit }), doc);
  });

  it("equals the dry run of -n2 -c1 -N1 --time-limit=1m --job-name=foo --cwd=/tmp --env=-* --env=A=1 hostname", () => {
    const { doc, rlimit } = dryRun("submit-dry-run-n2-c1.txt");
    const built = buildJobspec(
      request(["hostname"], { numTasks: 2, coresPerTask: 1, numNodes: 1, duration: 60, name: "foo", cwd: "/tmp", environment: { A: "1" } }),
      { environment: { A: "1" }, defaultCwd: "/tmp/work", rlimit },
    );
    same(built, doc);
  });

  it("equals the dry run of -t 5 hostname: minutes become attributes.system.duration 300", () => {
    const { doc, env, rlimit, cwd } = dryRun("submit-time-limit-minutes.txt");
    same(buildJobspec(request(["hostname"], { duration: 300 }), { environment: env, defaultCwd: cwd, rlimit }), doc);
  });

  it("equals jobspec-echo-hi.json, the document fed to `flux job submit`", () => {
    const doc = JSON.parse(readReferenceFile("jobspec-echo-hi.json")) as { attributes: { system: { environment: Record<string, string>; shell: { options: { rlimit: Record<string, number> } } } } };
    const { environment, shell } = doc.attributes.system;
    same(buildJobspec(request(["echo", "hi"]), { environment, defaultCwd: "/tmp/work", rlimit: shell.options.rlimit }), doc);
  });

  it("has the same resources and tasks as `flux job info ID jobspec` of a recorded job (job-info-completed-jobspec.txt)", () => {
    const recorded = JSON.parse(readTranscript("job-info-completed-jobspec.txt").stdout) as { resources: unknown; tasks: [{ command: string[] }] };
    const built = buildJobspec(request(recorded.tasks[0].command, { name: "printer" }), { environment: {}, defaultCwd: "/tmp/work" });
    same(built.resources, recorded.resources);
    same(built.tasks, recorded.tasks);
    expect(built.attributes.system.job).toEqual({ name: "printer" });
  });

  it("counts tasks in total when -n does not divide evenly over -N (from_command)", () => {
    const spec = buildJobspec(request(["hostname"], { numTasks: 3, numNodes: 2 }), { environment: {}, defaultCwd: "/" });
    expect(spec.resources).toEqual([
      { type: "node", count: 2, with: [{ type: "slot", count: 2, with: [{ type: "core", count: 1 }], label: "task" }] },
    ]);
    expect(spec.tasks[0].count).toEqual({ total: 3 });
  });

  it("asks for gpus per slot and whole nodes with exclusive", () => {
    const spec = buildJobspec(request(["x"], { numTasks: 2, numNodes: 2, exclusive: true, coresPerTask: 4, gpusPerTask: 1 }), {
      environment: {},
      defaultCwd: "/",
    });
    same(spec.resources, [
      {
        type: "node",
        count: 2,
        exclusive: true,
        with: [{ type: "slot", count: 1, with: [{ type: "core", count: 4 }, { type: "gpu", count: 1 }], label: "task" }],
      },
    ]);
  });

  it("turns shell options into nested JSON values the way -o KEY=VALUE does", () => {
    const spec = buildJobspec(request(["x"], { shellOptions: { "cpu-affinity": "off", verbose: "1", "output.stdout.label": "true" } }), {
      environment: {},
      defaultCwd: "/",
    });
    expect(spec.attributes.system.shell).toEqual({ options: { "cpu-affinity": "off", verbose: 1, output: { stdout: { label: true } } } });
  });

  it("sets queue, and a job name only when it is not the command's base name", () => {
    const named = buildJobspec(request(["/bin/sleep", "1"], { queue: "debug", name: "nap" }), { environment: {}, defaultCwd: "/" });
    expect(named.attributes.system.queue).toBe("debug");
    expect(named.attributes.system.job).toEqual({ name: "nap" });
    const unnamed = buildJobspec(request(["/bin/sleep", "1"]), { environment: {}, defaultCwd: "/" });
    expect(unnamed.attributes.system).not.toHaveProperty("job");
    expect(unnamed.attributes.system).not.toHaveProperty("queue");
  });

  it("refuses what from_command refuses, with flux-core's words", () => {
    const refused = (over: Partial<JobRequest>) => {
      try {
        buildJobspec(request(["x"], over), { environment: {}, defaultCwd: "/" });
      } catch (e) {
        return isInvalidJobRequestError(e) ? `${e.field}: ${e.message}` : `other: ${String(e)}`;
      }
      return "accepted";
    };
    expect(refused({ exclusive: true })).toBe("exclusive: exclusive can only be set with a node count");
    expect(refused({ numTasks: 1, numNodes: 2 })).toBe("num_nodes: node count must not be greater than task count");
  });
});
