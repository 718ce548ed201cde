/**
 * The SDK's token dance against in-memory services (createRouterTransport) that count every
 * call: when it exchanges credentials, what it repeats, and what it never repeats.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { AuthService } from "../../../gen/flux/restful/v1/auth_service_pb.js";
import { JobSchema, OutputChunkSchema } from "../../../gen/flux/restful/v1/job_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { createFluxClientOverTransport } from "../../../clients/sdk/index.js";
import { createTokenSource } from "../../../clients/sdk/token-source.js";

const SECRET = "shared-secret-for-tests";

interface FakeOptions {
  /** Tokens issued expire this long after issue (server-side check). */
  tokenLifetimeMs?: number;
  /** How long SubmitJob takes. */
  submitDelayMs?: number;
  /** SubmitJob fails with this code (after authentication). */
  submitFailsWith?: Code;
  /** The server's clock for token expiry. Defaults to Date.now. */
  now?: () => number;
}

/** A server with one user alice/wonderland that counts every call it receives. */
function createFakeServer(options: FakeOptions = {}) {
  const calls = { createToken: [] as string[], submitAttempts: 0, jobsCreated: 0, getJob: 0, stream: 0, signedPayloads: [] as unknown[] };
  const issued = new Map<string, number>();
  const now = options.now ?? Date.now;
  let serial = 0;

  function requireToken(ctx: HandlerContext): void {
    const header = ctx.requestHeader.get("authorization") ?? "";
    const token = header.replace(/^Bearer /, "");
    const expires = issued.get(token);
    if (expires === undefined) throw new ConnectError("missing or invalid token", Code.Unauthenticated);
    if (now() >= expires) throw new ConnectError("token expired", Code.Unauthenticated);
  }

  const transport = createRouterTransport((router) => {
    router.service(AuthService, {
      async createToken(req) {
        let user: string;
        let pass: string;
        if (req.credentials.case === "password") {
          ({ username: user, password: pass } = req.credentials.value);
        } else if (req.credentials.case === "signedPayload") {
          const { payload } = await jwtVerify(req.credentials.value, new TextEncoder().encode(SECRET)).catch(() => {
            throw new ConnectError("bad signature", Code.Unauthenticated);
          });
          calls.signedPayloads.push(payload);
          user = String(payload.user);
          pass = String(payload.pass);
        } else throw new ConnectError("no credentials", Code.InvalidArgument);
        calls.createToken.push(user);
        if (user !== "alice" || pass !== "wonderland") throw new ConnectError("invalid username or password", Code.Unauthenticated);
        const token = `token-${++serial}`;
        const expireMs = now() + (options.tokenLifetimeMs ?? 60_000);
        issued.set(token, expireMs);
        return { accessToken: token, tokenType: "Bearer", expireTime: timestampFromMs(expireMs) };
      },
    });
    router.service(JobService, {
      async submitJob(_req, ctx) {
        calls.submitAttempts++;
        requireToken(ctx);
        calls.jobsCreated++;
        if (options.submitDelayMs) await new Promise((r) => setTimeout(r, options.submitDelayMs));
        if (options.submitFailsWith !== undefined) throw new ConnectError("backend trouble", options.submitFailsWith);
        return { id: `ƒjob${calls.jobsCreated}` };
      },
      async getJob(req, ctx) {
        calls.getJob++;
        requireToken(ctx);
        return { job: create(JobSchema, { id: req.id }) };
      },
      async *streamJobOutput(req, ctx) {
        calls.stream++;
        requireToken(ctx);
        yield { item: { case: "chunk", value: create(OutputChunkSchema, { data: new TextEncoder().encode(`out of ${req.id}\n`) }) } };
        yield { item: { case: "end", value: { exitCode: 3 } } };
      },
    });
  });
  return { transport, calls };
}

describe("the SDK's token dance", () => {
  it("exchanges the credentials once on Unauthenticated and repeats the call", async () => {
    const { transport, calls } = createFakeServer();
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland" });

    const id = await client.submit({ command: ["true"] });

    expect(id).toBe("ƒjob1");
    expect(calls.createToken).toEqual(["alice"]);
    expect(calls.submitAttempts).toBe(2); // refused without a token, then accepted
    expect(calls.jobsCreated).toBe(1);
    // Later calls reuse the token.
    await client.get(id);
    expect(calls.getJob).toBe(1);
    expect(calls.createToken).toHaveLength(1);
  });

  it("sends the legacy signed payload when a secret key is given", async () => {
    const { transport, calls } = createFakeServer();
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland", secretKey: SECRET });

    await client.get("ƒ1");

    expect(calls.signedPayloads).toEqual([{ user: "alice", pass: "wonderland", scope: "token" }]);
  });

  it("renews an expired token the same way", async () => {
    // The server's clock moves only when the test says so: with a real one, a stall between
    // the exchange and the repeated call could expire the fresh token before it is used.
    let serverNowMs = Date.now();
    const { transport, calls } = createFakeServer({ tokenLifetimeMs: 150, now: () => serverNowMs });
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland" });
    await client.get("ƒ1");
    serverNowMs += 200;

    await client.get("ƒ1");

    expect(calls.createToken).toHaveLength(2);
  });

  it("fails with Unauthenticated, naming the user, when the credentials are wrong, and exchanges only once", async () => {
    const { transport, calls } = createFakeServer();
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "nope" });

    const err = await client.submit({ command: ["true"] }).catch((e: unknown) => ConnectError.from(e));

    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).rawMessage).toBe('cannot get a token for user "alice": invalid username or password');
    expect(calls.createToken).toHaveLength(1);
    expect(calls.jobsCreated).toBe(0);
  });

  it("passes Unauthenticated through untouched when there are no credentials", async () => {
    const { transport, calls } = createFakeServer();
    const client = createFluxClientOverTransport({ transport });

    const err = await client.get("ƒ1").catch((e: unknown) => ConnectError.from(e));

    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).rawMessage).toBe("missing or invalid token");
    expect(calls.createToken).toHaveLength(0);
  });

  it("shares one exchange between concurrent calls", async () => {
    const { transport, calls } = createFakeServer();
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland" });

    await Promise.all([1, 2, 3, 4, 5].map((n) => client.get(`ƒ${n}`)));

    expect(calls.createToken).toHaveLength(1);
    expect(calls.getJob).toBe(10);
  });

  it("never repeats a submit that timed out", async () => {
    // The deadline leaves a stalled process time to reach the handler (else nothing was
    // attempted at all), and the handler outlasts it by far.
    const { transport, calls } = createFakeServer({ submitDelayMs: 1000 });
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland" });
    await client.authenticate();

    const err = await client.submit({ command: ["true"] }, { timeoutMs: 300 }).catch((e: unknown) => ConnectError.from(e));
    await new Promise((r) => setTimeout(r, 300));

    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(calls.submitAttempts).toBe(1);
  });

  it.each([[Code.Unavailable], [Code.Unknown], [Code.Internal]])("never repeats a submit that failed with code %s", async (code) => {
    const { transport, calls } = createFakeServer({ submitFailsWith: code });
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland" });
    await client.authenticate();

    const err = await client.submit({ command: ["true"] }).catch((e: unknown) => ConnectError.from(e));

    expect((err as ConnectError).code).toBe(code);
    expect(calls.submitAttempts).toBe(1);
  });

  it("passes a refused CreateToken call straight through", async () => {
    const { transport, calls } = createFakeServer();
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland" });

    const err = await client.auth
      .createToken({ credentials: { case: "password", value: { username: "bob", password: "x" } } })
      .catch((e: unknown) => ConnectError.from(e));

    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect(calls.createToken).toEqual(["bob"]);
  });

  it("repeats a refused output stream with a fresh token and delivers it whole", async () => {
    const { transport, calls } = createFakeServer();
    const client = createFluxClientOverTransport({ transport, user: "alice", token: "wonderland" });

    const items = [];
    for await (const item of client.streamOutput("ƒ9")) items.push(item);

    expect(calls.stream).toBe(2);
    expect(items.map((i) => i.case)).toEqual(["chunk", "end"]);
    expect(new TextDecoder().decode((items[0]!.value as { data: Uint8Array }).data)).toBe("out of ƒ9\n");
  });
});

describe("createTokenSource", () => {
  it("renews a token that is about to expire before sending it", async () => {
    const { transport, calls } = createFakeServer({ tokenLifetimeMs: 60_000 });
    let now = Date.now();
    const tokens = createTokenSource({ transport, user: "alice", token: "wonderland", renewBeforeMs: 30_000, now: () => now });
    const first = await tokens.exchange();
    expect(await tokens.current()).toBe(first);

    now += 45_000; // 15 s left, inside the 30 s margin

    const second = await tokens.current();
    expect(second).not.toBe(first);
    expect(calls.createToken).toHaveLength(2);
  });

  it("does not exchange again for a call that saw an already replaced token", async () => {
    const { transport, calls } = createFakeServer();
    const tokens = createTokenSource({ transport, user: "alice", token: "wonderland" });
    const first = await tokens.exchange();
    const second = await tokens.renew(first);

    expect(await tokens.renew(first)).toBe(second);
    expect(calls.createToken).toHaveLength(2);
  });
});
