/**
 * flux-restful-cli against a server with auth on: the token dance happens without the user
 * noticing, credentials follow the precedence flag > environment > settings file, and refusals
 * are one line.
 */
import fs from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createFluxClient, JobState, type FluxClient } from "../../../clients/sdk/node.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createCliHome, runCli, type CliHome } from "./cli-harness.js";

// Each CLI run is a Node process (about half a CPU second); on a loaded 2-core machine they queue.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const ADMIN = { user: "admin", token: "admin-password-for-tests" };
const ALICE = { user: "alice", token: "alice-password-for-tests" };
const SECRET = "a-shared-secret-for-tests-at-least-32-bytes";

let server: TestServer;
let home: CliHome;
let admin: FluxClient;
/** The environment with alice's credentials. */
let aliceEnv: Record<string, string>;
let anonEnv: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({
    env: { FLUX_REQUIRE_AUTH: "true", FLUX_USER: ADMIN.user, FLUX_TOKEN: ADMIN.token, FLUX_SECRET_KEY: SECRET },
  });
  home = await createCliHome();
  admin = createFluxClient({ baseUrl: server.url, ...ADMIN, env: {} });
  await admin.users.create(ALICE.user, ALICE.token);
  anonEnv = { ...home.env, FLUX_RESTFUL_HOST: server.url };
  aliceEnv = { ...anonEnv, FLUX_USER: ALICE.user, FLUX_TOKEN: ALICE.token };
});
afterAll(async () => {
  await server?.close();
  await home?.cleanup();
});

async function waitInactive(id: string) {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const job = await admin.get(id);
    if (job.state === JobState.INACTIVE) return job;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`job ${id} did not finish`);
}

describe.concurrent("with auth on", () => {
  it("submit --wait works with FLUX_USER and FLUX_TOKEN, and nothing about tokens shows", async () => {
    const res = await runCli(["submit", "--wait", "sh", "-c", "echo out; echo err >&2; exit 3"], { env: aliceEnv, viaBin: true });

    expect(res.code).toBe(3);
    expect(res.stdout).toBe("out\n");
    expect(res.stderr).toMatch(/^err\n/);
    expect(res.stderr).not.toMatch(/token|auth/i);
  });

  it("records the job under the caller's name", async () => {
    const res = await runCli(["submit", "--name", "owned", "true"], { env: aliceEnv });
    const { id } = JSON.parse(res.stdout) as { id: string };
    expect((await waitInactive(id)).owner).toBe(ALICE.user);
  });

  it("runs info, cancel, logs --stream, list-jobs, list-nodes and version with a token", async () => {
    const id = await createFluxClient({ baseUrl: server.url, ...ALICE, env: {} }).submit({ command: ["sh", "-c", "echo streamed; sleep 30"] });

    const [info, nodes, version] = await Promise.all([
      runCli(["info", id], { env: aliceEnv }),
      runCli(["list-nodes"], { env: aliceEnv }),
      runCli(["version"], { env: aliceEnv }),
    ]);
    expect(JSON.parse(info.stdout)).toMatchObject({ id, owner: ALICE.user });
    expect(JSON.parse(nodes.stdout).nodes.length).toBeGreaterThan(0);
    expect(version.stdout).toContain("auth on");

    // The job has printed its line before it is cancelled: a cancel that won that race would
    // leave nothing to stream.
    for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 20))) {
      const { chunks } = await admin.output(id);
      if (Buffer.concat(chunks.map((c) => c.data)).toString().includes("streamed")) break;
      if (Date.now() > deadline) throw new Error(`job ${id} printed nothing`);
    }
    const stream = runCli(["logs", id, "--stream", "--quiet"], { env: aliceEnv });
    const cancel = await runCli(["cancel", id], { env: aliceEnv });
    expect(cancel.code).toBe(0);
    const streamed = await stream;
    expect(streamed.stdout).toBe("streamed\n");
    expect(streamed.code).toBe(0);

    const list = await runCli(["list-jobs"], { env: aliceEnv });
    const owners = new Set((JSON.parse(list.stdout) as { jobs: { owner: string }[] }).jobs.map((j) => j.owner));
    expect([...owners]).toEqual([ALICE.user]);
  });

  it("sends the legacy signed payload when FLUX_SECRET_KEY is set (a wrong key is refused)", async () => {
    const good = await runCli(["submit", "--wait", "echo", "signed"], { env: { ...aliceEnv, FLUX_SECRET_KEY: SECRET } });
    const bad = await runCli(["list-jobs"], { env: { ...aliceEnv, FLUX_SECRET_KEY: "not-the-servers-secret-but-long-enough" } });

    expect([good.code, good.stdout]).toEqual([0, "signed\n"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^flux-restful-cli: cannot get a token for user "alice": .+\n$/);
  });

  it("takes credentials from the settings file, then the environment over it, then -c over both", async () => {
    const settings = path.join(home.home, "alice.yml");
    await fs.writeFile(settings, YAML.stringify({ host: server.url, flux_user: ALICE.user, flux_token: ALICE.token }));
    const base = { ...home.env };

    const fromFile = await runCli(["--settings-file", settings, "list-jobs"], { env: base });
    const envWins = await runCli(["--settings-file", settings, "list-jobs"], { env: { ...base, FLUX_TOKEN: "wrong" } });
    const flagWins = await runCli(["--settings-file", settings, "-c", `set:flux_token:${ALICE.token}`, "list-jobs"], {
      env: { ...base, FLUX_TOKEN: "wrong" },
    });

    expect(fromFile.code).toBe(0);
    expect(envWins.code).toBe(1);
    expect(envWins.stderr).toMatch(/^flux-restful-cli: cannot get a token for user "alice": .+\n$/);
    expect(flagWins.code).toBe(0);
  });

  it("without credentials, says which to set, in one line", async () => {
    const res = await runCli(["list-jobs"], { env: anonEnv });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^flux-restful-cli: .+ \(set FLUX_USER and FLUX_TOKEN, or flux_user and flux_token in the settings\)\n$/);
  });

  it("refuses a wrong password, naming the user", async () => {
    const res = await runCli(["submit", "true"], { env: { ...aliceEnv, FLUX_TOKEN: "wrong" } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^flux-restful-cli: cannot get a token for user "alice": .+\n$/);
  });

  it("refuses what only superusers may do, and other users' jobs", async () => {
    const adminJob = await admin.submit({ command: ["true"] });
    const [stop, others, info] = await Promise.all([
      runCli(["stop-service"], { env: aliceEnv }),
      runCli(["list-jobs", "--user", ADMIN.user], { env: aliceEnv }),
      runCli(["info", adminJob], { env: aliceEnv }),
    ]);
    for (const res of [stop, others, info]) {
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^flux-restful-cli: [^\n]+\n$/);
    }
    expect(info.stderr).toContain("belongs to another user");
    expect((await admin.whoAmI()).username).toBe(ADMIN.user);
  });

  it("shell has a client that is signed in as the user", async () => {
    const res = await runCli(["shell"], { env: aliceEnv, input: "(await client.whoAmI()).username\n" });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("'alice'");
  });
});
