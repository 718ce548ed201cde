/**
 * The SDK against a real server with auth on, over each protocol: the token dance, refused
 * tokens renewed, errors with their codes, and the admin methods.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createFluxClient, JobState, type FluxClient, type NodeFluxClientOptions } from "../../../clients/sdk/node.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";

const ADMIN = { user: "admin", token: "admin-password-for-tests" };
const SECRET = "a-shared-secret-for-tests-at-least-32-bytes";

let server: TestServer;
let admin: FluxClient;

beforeAll(async () => {
  server = await startTestServer({
    env: { FLUX_REQUIRE_AUTH: "true", FLUX_USER: ADMIN.user, FLUX_TOKEN: ADMIN.token, FLUX_SECRET_KEY: SECRET },
  });
  admin = createFluxClient({ baseUrl: server.url, ...ADMIN, env: {} });
});
afterAll(async () => {
  await server?.close();
});

const codeOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

const PROTOCOLS: [string, Pick<NodeFluxClientOptions, "protocol" | "httpVersion">][] = [
  ["connect", { protocol: "connect" }],
  ["grpc", { protocol: "grpc" }],
  ["grpc-web", { protocol: "grpc-web" }],
];

describe.each(PROTOCOLS)("with auth on, over %s", (name, protocolOptions) => {
  const user = { user: `user-${name}`, token: `password-of-${name}` };
  let client: FluxClient;
  beforeAll(async () => {
    await admin.users.create(user.user, user.token);
    client = createFluxClient({ baseUrl: server.url, ...user, env: {}, ...protocolOptions });
  });

  it("submits once after exchanging the credentials, and streams the output", async () => {
    const id = await client.submit({ command: ["sh", "-c", "echo authed"], name: `once-${name}` });

    const items = [];
    for await (const item of client.streamOutput(id)) items.push(item);
    expect(items.at(-1)).toMatchObject({ case: "end", value: { exitCode: 0 } });
    const jobs = [];
    for await (const page of admin.list({ name: `once-${name}` })) jobs.push(...page.jobs);
    expect(jobs.map((j) => j.id)).toEqual([id]);
    expect(jobs[0]!.owner).toBe(user.user);
  });

  it("follows the eventlog with a fresh client (the stream itself triggers the exchange)", async () => {
    const id = await client.submit({ command: ["true"] });
    const fresh = createFluxClient({ baseUrl: server.url, ...user, env: {}, ...protocolOptions });
    const names = [];
    for await (const event of fresh.watchEvents(id)) names.push(event.name);
    expect(names.at(-1)).toBe("clean");
  });

  it("renews a token the server refuses", async () => {
    const stale = createFluxClient({ baseUrl: server.url, ...user, accessToken: "not-a-token", env: {}, ...protocolOptions });
    expect((await stale.nodes()).length).toBeGreaterThan(0);
  });

  it("tells who it is", async () => {
    const me = await client.whoAmI();
    expect(me).toMatchObject({ authenticated: true, username: user.user, superuser: false });
    expect(me.server?.authRequired).toBe(true);
  });

  it("fails with Unauthenticated without or with wrong credentials, and PermissionDenied for others' jobs", async () => {
    const anonymous = createFluxClient({ baseUrl: server.url, env: {}, ...protocolOptions });
    const wrong = createFluxClient({ baseUrl: server.url, user: user.user, token: "wrong", env: {}, ...protocolOptions });
    const adminJob = await admin.submit({ command: ["true"] });

    expect((await codeOf(anonymous.nodes()))?.code).toBe(Code.Unauthenticated);
    const refused = await codeOf(wrong.submit({ command: ["true"] }));
    expect(refused?.code).toBe(Code.Unauthenticated);
    expect(refused?.rawMessage).toMatch(new RegExp(`^cannot get a token for user "${user.user}": `));
    expect((await codeOf(client.get(adminJob)))?.code).toBe(Code.PermissionDenied);
    expect((await codeOf(client.stopService()))?.code).toBe(Code.PermissionDenied);
  });
});

describe("the admin methods", () => {
  it("create, list, set the password, deactivate and delete a user", async () => {
    const created = await admin.users.create("carol", "first-password", { superuser: false });
    expect(created).toMatchObject({ name: "carol", active: true, superuser: false });
    expect((await admin.users.list()).map((u) => u.name)).toContain("carol");

    const carol = createFluxClient({ baseUrl: server.url, user: "carol", token: "first-password", env: {} });
    await carol.authenticate();
    await admin.users.setPassword("carol", "second-password");
    // Her token was revoked and her old password no longer works.
    expect((await codeOf(carol.nodes()))?.code).toBe(Code.Unauthenticated);
    const carol2 = createFluxClient({ baseUrl: server.url, user: "carol", token: "second-password", env: {} });
    expect((await carol2.nodes()).length).toBeGreaterThan(0);

    expect(await admin.users.setActive("carol", false)).toMatchObject({ active: false });
    expect((await codeOf(carol2.nodes()))?.code).toBe(Code.Unauthenticated);

    await admin.users.delete("carol");
    expect((await admin.users.list()).map((u) => u.name)).not.toContain("carol");
  });

  it("gets a token explicitly", async () => {
    const token = await admin.authenticate();
    expect(token.split(".")).toHaveLength(3);
    const byToken = createFluxClient({ baseUrl: server.url, accessToken: token, env: {} });
    const job = await byToken.get(await byToken.submit({ command: ["true"] }));
    expect(job.owner).toBe(ADMIN.user);
    expect(job.state).not.toBe(JobState.UNSPECIFIED);
  });
});
