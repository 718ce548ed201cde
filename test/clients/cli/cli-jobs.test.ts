/**
 * flux-restful-cli as a subprocess against a real server (auth off): every job command, its
 * flags and its error paths. Results are read back through the SDK.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createFluxClient, JobResult, JobState, type FluxClient } from "../../../clients/sdk/node.js";
import { waitForState } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { collect, createCliHome, runCli, spawnCli, type CliHome } from "./cli-harness.js";

// Each CLI run is a Node process (about half a CPU second); on a loaded 2-core machine they queue.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let server: TestServer;
let home: CliHome;
let client: FluxClient;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  home = await createCliHome();
  env = { ...home.env, FLUX_RESTFUL_HOST: server.url };
  client = createFluxClient({ baseUrl: server.url, env: {} });
});
afterAll(async () => {
  await server?.close();
  await home?.cleanup();
});

const waitInactive = (id: string) => waitForState(client.jobs, id, JobState.INACTIVE, 60_000);
const waitRunning = (id: string) => waitForState(client.jobs, id, JobState.RUN, 60_000);

describe.concurrent("info, cancel, logs", () => {
  it("info prints the record in Flux's words", async () => {
    const id = await client.submit({ command: ["sh", "-c", "exit 2"], name: "info-me" });
    await waitInactive(id);

    const res = await runCli(["info", id], { env });

    expect(res.code).toBe(0);
    const job = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(job).toMatchObject({ id, name: "info-me", state: "INACTIVE", result: "FAILED", returncode: 2, status: "FAILED" });
    expect(job).toHaveProperty("t_submit");
    expect(res.stdout.split("\n")[1]).toMatch(/^ {4}"/); // pretty, four spaces
  });

  it("info --json prints one line", async () => {
    const id = await client.submit({ command: ["true"] });
    const res = await runCli(["info", "--json", id], { env });
    expect(res.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ id });
  });

  it.each([
    [["info", "ƒ2Xyz9"], 1, /^flux-restful-cli: .*not found.*\n$/],
    [["info", "not-an-id"], 1, /^flux-restful-cli: .*not-an-id.*\n$/],
    [["info"], 2, /^flux-restful-cli: expected one job id: flux-restful-cli info ID\n$/],
    [["cancel", "ƒ2Xyz9"], 1, /^flux-restful-cli: .*not found.*\n$/],
    [["logs", "ƒ2Xyz9"], 1, /^flux-restful-cli: .*not found.*\n$/],
  ])("%j fails with one line", async (args, code, pattern) => {
    const res = await runCli(args, { env });
    expect(res.code).toBe(code);
    expect(res.stderr).toMatch(pattern);
    expect(res.stderr).not.toContain("    at ");
  });

  it("cancel ends a running job CANCELED, and a second cancel is refused", async () => {
    const id = await client.submit({ command: ["sleep", "30"] });
    await waitRunning(id);

    const res = await runCli(["cancel", id, "--message", "enough"], { env });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ id, message: "cancel requested" });
    const job = await waitInactive(id);
    expect(job.result).toBe(JobResult.CANCELED);
    expect(job.exception?.note).toBe("enough");

    const again = await runCli(["cancel", id], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^flux-restful-cli: .*\n$/);
  });

  it("logs writes both streams byte for byte, leading spaces kept", async () => {
    const id = await client.submit({ command: ["sh", "-c", "printf '  indented\\n'; printf 'e1\\n' >&2; printf 'tail'"] });
    await waitInactive(id);

    const res = await runCli(["logs", id], { env });

    expect(res.code).toBe(0);
    expect(res.stdout).toBe("  indented\ntail");
    expect(res.stderr).toBe("e1\n");
  });

  it("logs --json prints the chunks with their streams", async () => {
    const id = await client.submit({ command: ["sh", "-c", "echo o; echo e >&2"] });
    await waitInactive(id);

    const res = await runCli(["logs", "--json", id], { env });

    const body = JSON.parse(res.stdout) as { id: string; complete: boolean; chunks: { stream: string; data: string }[] };
    expect(body.id).toBe(id);
    expect(body.complete).toBe(true);
    expect(body.chunks.filter((c) => c.stream === "stdout").map((c) => c.data).join("")).toBe("o\n");
    expect(body.chunks.filter((c) => c.stream === "stderr").map((c) => c.data).join("")).toBe("e\n");
  });

  it("logs --stream follows a running job to its end", async () => {
    // The job goes on past its first line only once the CLI has shown it (the test then creates
    // the gate file): it surely follows a running job, and a busy machine cannot let the job end
    // before waitRunning sees it run.
    const gate = path.join(home.home, "logs-stream-gate");
    const id = await client.submit({ command: ["sh", "-c", 'echo first; while [ ! -e "$0" ]; do sleep 0.05; done; echo second >&2; sleep 0.5; echo third', gate] });
    await waitRunning(id);

    const child = spawnCli(["logs", id, "--stream", "--quiet"], { env });
    let shown = "";
    child.stdout!.on("data", (b: Buffer) => (shown += b.toString()));
    const done = collect(child);
    for (const deadline = Date.now() + 60_000; !shown.includes("first"); await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline) throw new Error(`logs --stream showed nothing of job ${id}`);
    }
    expect((await client.get(id)).state).toBe(JobState.RUN);
    await fs.writeFile(gate, "");
    const res = await done;

    expect(res.code).toBe(0);
    expect(res.stdout).toBe("first\nthird\n");
    expect(res.stderr).toBe("second\n");
    expect((await client.get(id)).state).toBe(JobState.INACTIVE);
  });

  it("logs --stream --json prints JSON Lines ending with the end item", async () => {
    const id = await client.submit({ command: ["sh", "-c", "echo a; exit 4"] });
    const res = await runCli(["logs", id, "--stream", "--json"], { env });
    const lines = res.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ chunk: { stream: "stdout", data: "a\n" } });
    expect(lines.at(-1)).toEqual({ end: { exit_code: 4, truncated: false } });
  });
});

describe("list-jobs (alone, as it looks at the newest jobs)", () => {
  it("list-jobs prints {jobs: [...]}, newest first, and honours --state, --user and --limit", async () => {
    const done = await client.submit({ command: ["true"], name: "listed-done" });
    await waitInactive(done);
    const held = await client.submit({ command: ["true"], name: "listed-held", urgency: 0 });

    const all = await runCli(["list-jobs"], { env });
    const pending = await runCli(["list-jobs", "--state", "pending"], { env });
    const completed = await runCli(["list-jobs", "--state", "completed", "--user", (await client.whoAmI()).username], { env });
    const limited = await runCli(["list-jobs", "--limit", "1"], { env });

    const ids = (r: { stdout: string }) => (JSON.parse(r.stdout) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
    expect(ids(all)).toEqual(expect.arrayContaining([done, held]));
    expect(ids(all).indexOf(held)).toBeLessThan(ids(all).indexOf(done));
    expect(ids(pending)).toContain(held);
    expect(ids(pending)).not.toContain(done);
    expect(ids(completed)).toContain(done);
    expect(ids(completed)).not.toContain(held);
    expect(ids(limited)).toEqual([held]);
    expect(limited.stderr).toMatch(/^flux-restful-cli: showing 1 of \d+ jobs \(see --limit\)\n$/);
    await client.cancel(held);
  });

});

describe.concurrent("lists and the rest", () => {
  it.each([
    [["list-jobs", "--state", "nope"], 'flux-restful-cli: --state: unknown job state or result "nope"'],
    [["list-jobs", "--limit", "x"], "flux-restful-cli: --limit must be a whole number"],
    [["list-jobs", "extra"], 'flux-restful-cli: list-jobs takes no arguments (got "extra")'],
  ])("%j is a usage error", async (args, message) => {
    const res = await runCli(args, { env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
  });

  it("list-nodes describes this machine's cores", async () => {
    const res = await runCli(["list-nodes"], { env });
    expect(res.code).toBe(0);
    const { nodes } = JSON.parse(res.stdout) as { nodes: { rank: number; state: string; cores: number }[] };
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes[0]).toMatchObject({ rank: 0, state: "UP" });
    expect(nodes[0]!.cores).toBe(server.config.localCores);
  });

  it("works over grpc and grpc-web as over connect", async () => {
    const [grpc, grpcWeb] = await Promise.all([
      runCli(["--protocol", "grpc", "submit", "--wait", "echo", "via grpc"], { env }),
      runCli(["submit", "--wait", "--protocol", "grpc-web", "echo", "via grpc-web"], { env }),
    ]);
    expect([grpc.code, grpc.stdout]).toEqual([0, "via grpc\n"]);
    expect([grpcWeb.code, grpcWeb.stdout]).toEqual([0, "via grpc-web\n"]);
  });

  it("version prints the client's and the server's versions", async () => {
    const res = await runCli(["version"], { env, viaBin: true });
    const pkg = JSON.parse(await fs.readFile("package.json", "utf8")) as { version: string };
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^flux-restful-cli ${pkg.version}\\nserver \\S+ at ${server.url} \\(local backend, single-user, auth off\\)\\n$`));
    const flag = await runCli(["--version"], { env });
    expect(flag.stdout).toBe(`flux-restful-cli ${pkg.version}\n`);
  });

  it("shell evaluates piped input with a connected client", async () => {
    const id = await client.submit({ command: ["true"], name: "from-the-shell" });
    const res = await runCli(["shell"], { env, input: `(await client.get(${JSON.stringify(id)})).name\nPENDING\n` });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("'from-the-shell'");
    expect(res.stdout).toContain("14");
  });

  it("reports an unreachable server in one line, with the stack only under --debug", async () => {
    const args = ["--host", "http://127.0.0.1:1", "list-nodes"];
    const plain = await runCli(args, { env });
    const debug = await runCli([...args, "--debug"], { env });

    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^flux-restful-cli: cannot reach the server at http:\/\/127\.0\.0\.1:1: .+\n$/);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toContain("flux-restful-cli: debug: flux.restful.v1.JobService/ListNodes");
    expect(debug.stderr).toContain("    at ");
  });

  it("prints the usage with no command, and refuses an unknown one", async () => {
    const none = await runCli([], { env });
    const bogus = await runCli(["frobnicate"], { env });
    const help = await runCli(["submit", "--help"], { env });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("usage: flux-restful-cli");
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/^flux-restful-cli: unknown command "frobnicate"/);
    expect(help.stdout).toContain("usage: flux-restful-cli submit");
  });
});

describe("stop-service", () => {
  it("stops the server", async () => {
    const own = await startTestServer();
    try {
      const res = await runCli(["stop-service"], { env: { ...env, FLUX_RESTFUL_HOST: own.url } });
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual({ message: "service is stopping" });
      // Bounded by time, not by a count of tries: a loaded machine may take seconds to stop.
      let reachable = true;
      for (const deadline = Date.now() + 30_000; reachable && Date.now() < deadline; ) {
        reachable = await fetch(`${own.url}/healthz`).then(() => true, () => false);
        if (reachable) await new Promise((r) => setTimeout(r, 50));
      }
      expect(reachable).toBe(false);
    } finally {
      await own.close();
    }
  });
});
