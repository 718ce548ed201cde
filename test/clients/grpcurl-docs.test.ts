/**
 * Runs the `buf curl` and `curl` examples of docs/grpcurl.md, as written, against a real
 * server with auth on: reflection lists the services and methods, CreateToken gives a token,
 * and SubmitJob with that token creates a job for the user.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFluxClient, JobState, type FluxClient } from "../../clients/sdk/node.js";
import { startTestServer, type TestServer } from "../support/start-test-server.js";

const ALICE = { user: "alice", token: "alice-password-for-tests" };
const DOC = "docs/grpcurl.md";

let server: TestServer;
let admin: FluxClient;
let bin: string;

/** The ```sh blocks under a heading of the doc, line continuations joined, comments dropped. */
async function examples(heading: string): Promise<string[]> {
  const text = await fs.readFile(DOC, "utf8");
  const section = text.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`no section "${heading}" in ${DOC}`);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .join("\n")
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", script], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  server = await startTestServer({
    env: { FLUX_REQUIRE_AUTH: "true", FLUX_USER: "admin", FLUX_TOKEN: "admin-password-for-tests", FLUX_SECRET_KEY: "a-shared-secret-for-tests-at-least-32-bytes" },
  });
  admin = createFluxClient({ baseUrl: server.url, user: "admin", token: "admin-password-for-tests", env: {} });
  await admin.users.create(ALICE.user, ALICE.token);
  // `buf` from the npm package; `jq` from the system, or a stand-in for `jq -r .field`.
  bin = await fs.mkdtemp(path.join(os.tmpdir(), "grpcurl-docs-bin-"));
  await fs.symlink(path.resolve("node_modules/.bin/buf"), path.join(bin, "buf"));
  const hasJq = await bash("command -v jq", { PATH: process.env.PATH ?? "" });
  if (hasJq.code !== 0) {
    const shim = `#!${process.execPath}\nlet s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const f=process.argv.at(-1).slice(1);console.log(JSON.parse(s)[f]);});\n`;
    await fs.writeFile(path.join(bin, "jq"), shim, { mode: 0o755 });
  }
});
afterAll(async () => {
  await server?.close();
  if (bin) await fs.rm(bin, { recursive: true, force: true });
});

describe("docs/grpcurl.md", () => {
  it("the buf curl and curl examples list by reflection, get a token and submit with it", async () => {
    const lines = [...(await examples("buf curl")), ...(await examples("curl (Connect JSON"))];
    expect(lines.some((l) => l.startsWith("buf curl") && l.includes("--list-services"))).toBe(true);
    const host = new URL(server.url).host;
    const script = ["set -eo pipefail", ...lines.map((l) => l.replaceAll("127.0.0.1:5000", host)), ""].join("\n");

    const res = await bash(script, { PATH: `${bin}:${process.env.PATH}`, HOME: bin, PASSWORD: ALICE.token });

    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("flux.restful.v1.JobService\n");
    expect(res.stdout).toContain("grpc.reflection.v1.ServerReflection\n");
    expect(res.stdout).toContain("flux.restful.v1.JobService/SubmitJob\n");
    const ids = [...res.stdout.matchAll(/"id":\s*"(ƒ\w+)"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      let job = await admin.get(id);
      for (const deadline = Date.now() + 30_000; job.state !== JobState.INACTIVE && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 20));
        job = await admin.get(id);
      }
      expect(job).toMatchObject({ owner: ALICE.user, returncode: 0, command: ["sh", "-c", "echo hello"] });
    }
  });

  it("without the token header, SubmitJob is refused with exit code 128 (8 x Unauthenticated)", async () => {
    const submit = (await examples("buf curl")).find((l) => l.includes("JobService/SubmitJob"))!;
    const anonymous = submit.replace(/-H "Authorization: Bearer \$TOKEN"\s*/, "").replaceAll("127.0.0.1:5000", new URL(server.url).host);

    const res = await bash(anonymous, { PATH: `${bin}:${process.env.PATH}`, HOME: bin });

    expect(res.code).toBe(128);
    expect(res.stderr).toContain('"code": "unauthenticated"');
  });
});
