/**
 * multi-user mode end to end, with real Linux accounts (needs root, as CI has): each
 * user's job runs as their account, sees their login environment and no secret, and
 * cannot be read or cancelled by the other.
 */
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobResult, JobState } from "../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { readOutput, waitForState, type JobClient } from "../../support/job-helpers.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { createTransports, type TransportName } from "../../support/transports.js";
import { basicHeader, CHEAP_TUNING } from "./auth-harness.js";
import { createLinuxTestUsers, isRoot, type LinuxTestUsers } from "./linux-test-users.js";

const SECRET_KEY = "multi-user-shared-secret-key-0123456789";
const TOKEN_KEY = "multi-user-server-only-token-key-0123456789";
const names: TransportName[] = ["connect-json-h1", "grpc"];

const withAuthorization = (value: string): Interceptor => (next) => (req) => {
  req.header.set("authorization", value);
  return next(req);
};
const codeOf = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => Code[ConnectError.from(e).code]);

async function run(client: JobClient, command: string[]) {
  const { id } = await client.submitJob({ command });
  const job = await waitForState(client, id);
  return { id, job, ...(await readOutput(client, id)) };
}

describe.skipIf(!isRoot)("multi-user mode (root)", () => {
  let accounts: LinuxTestUsers;
  let server: TestServer;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    accounts = createLinuxTestUsers(2);
    [alice, bob] = accounts.names as [string, string];
    process.env.FLUX_SECRET_KEY = SECRET_KEY;
    process.env.FLUX_RESTFUL_TOKEN_KEY = TOKEN_KEY;
    server = await startTestServer({
      env: {
        FLUX_REQUIRE_AUTH: "true",
        FLUX_SERVER_MODE: "multi-user",
        FLUX_SECRET_KEY: SECRET_KEY,
        FLUX_RESTFUL_TOKEN_KEY: TOKEN_KEY,
        FLUX_RESTFUL_LOCAL_CORES: "8",
      },
      deps: { authTuning: CHEAP_TUNING },
    });
    for (const name of [alice, bob, "nolinux_user"]) {
      await server.server.auth.users.create({ name, password: `${name}-pw`, superuser: false });
    }
  });
  afterAll(async () => {
    await server?.close();
    accounts?.remove();
    delete process.env.FLUX_SECRET_KEY;
    delete process.env.FLUX_RESTFUL_TOKEN_KEY;
  });

  const clientFor = (user: string, transport: TransportName) =>
    createClient(JobService, createTransports(server.url, [withAuthorization(basicHeader(user, `${user}-pw`))])[transport]);

  describe.each(names)("over %s", (transport) => {
    it("runs each user's job as their Linux account, with their groups", async () => {
      for (const user of [alice, bob]) {
        const res = await run(clientFor(user, transport), ["sh", "-c", "id -un; id -Gn"]);
        expect(res.job.result).toBe(JobResult.COMPLETED);
        const [un, groups] = res.stdout.trim().split("\n");
        expect(un).toBe(user);
        expect(groups!.split(" ")).toEqual(expect.arrayContaining([user, accounts.group]));
        expect(res.job.owner).toBe(user);
      }
    });

    it("keeps one user from reading or cancelling the other's job", async () => {
      const a = clientFor(alice, transport);
      const b = clientFor(bob, transport);
      const { id } = await a.submitJob({ command: ["sleep", "30"] });
      await waitForState(a, id, JobState.RUN);
      expect(await codeOf(b.getJob({ id }))).toBe("PermissionDenied");
      expect(await codeOf(b.getJobOutput({ id }))).toBe("PermissionDenied");
      expect(await codeOf(b.cancelJob({ id }))).toBe("PermissionDenied");
      expect((await a.getJob({ id })).job?.state).toBe(JobState.RUN);
      await a.cancelJob({ id });
      expect((await waitForState(a, id)).result).toBe(JobResult.CANCELED);
    });
  });

  it("gives the job the account's login environment and no secret", async () => {
    const res = await run(clientFor(alice, "connect-json-h1"), ["env"]);
    const env = Object.fromEntries(res.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(env).toMatchObject({ HOME: `/home/${alice}`, USER: alice, LOGNAME: alice, SHELL: "/bin/sh" });
    for (const secret of [SECRET_KEY, TOKEN_KEY, "FLUX_SECRET_KEY", "FLUX_RESTFUL_TOKEN_KEY"]) {
      expect(res.stdout).not.toContain(secret);
    }
  });

  it("refuses a submit from a user with no Linux account, naming them", async () => {
    const err = await clientFor("nolinux_user", "connect-json-h1")
      .submitJob({ command: ["true"] })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((err as ConnectError).rawMessage).toMatch(/user "nolinux_user" has no linux account/);
  });
});
