/**
 * The malformed-request generator: a seeded, reproducible mix over every RPC and protocol
 * (Connect JSON, Connect binary, gRPC, gRPC-web) and every REST and plain HTTP route, with
 * each RPC and protocol pair visited in turn so none is left out of a run.
 *
 * ```ts
 * const cases = generateMalformedRequests({ seed: 1, count: 9000, maxRequestBytes, maxHeaderBytes, existingJobId });
 * ```
 */
import type { RawRequest } from "../raw-client.js";
import type { MalformedCase } from "./malformed-case.js";
import { restCase } from "./rest-cases.js";
import { rpcTargets, type CatalogContext } from "./rpc-catalog.js";
import { RPC_PROTOCOLS, rpcCase } from "./rpc-cases.js";
import { createRandom, INVALID_UTF8 } from "./wire.js";

export interface GeneratorOptions extends CatalogContext {
  seed: number;
  count: number;
  maxRequestBytes: number;
  maxHeaderBytes: number;
  /** Share of REST and plain HTTP requests; the rest are RPCs. Defaults to 0.3. */
  restShare?: number;
}

export function generateMalformedRequests(options: GeneratorOptions): MalformedCase[] {
  const random = createRandom(options.seed);
  const targets = rpcTargets(options);
  const pairs = targets.flatMap((t) => RPC_PROTOCOLS.map((p) => [t, p] as const));
  const restShare = options.restShare ?? 0.3;
  const out: MalformedCase[] = [];
  let next = 0;
  for (let i = 0; i < options.count; i++) {
    if (random.next() < restShare) {
      out.push(restCase(random, options));
    } else {
      const [target, protocol] = pairs[next++ % pairs.length]!;
      out.push(rpcCase(target, protocol, random, options));
    }
  }
  return out;
}

/**
 * With auth on: well-formed calls carrying broken, forged or hostile credentials. Each must be
 * refused as unauthenticated (401 on REST; 400 "Denied" on the token exchange), or limited
 * (resource_exhausted, 429) after a burst of wrong passwords.
 */
export function generateCredentialAttacks(options: { seed: number; count: number; forgedToken: string }): MalformedCase[] {
  const random = createRandom(options.seed);
  const basic = (raw: Buffer | string) => `Basic ${Buffer.from(raw).toString("base64")}`;
  const credentials: [string, string | undefined][] = [
    ["no credentials", undefined],
    ["empty", ""],
    ["Bearer without token", "Bearer"],
    ["Bearer junk", "Bearer a.b.c"],
    ["Bearer huge", `Bearer ${"x".repeat(8000)}`],
    ["Bearer alg none", "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0."],
    ["Bearer signed with another key", `Bearer ${options.forgedToken}`],
    ["Basic not base64", "Basic !!!"],
    ["Basic without colon", basic("admin")],
    ["Basic wrong password", basic("admin:wrong")],
    ["Basic unknown user", basic("nobody-here:x")],
    ["Basic invalid UTF-8", basic(Buffer.concat([Buffer.from("admin:"), INVALID_UTF8[1]!]))],
    ["Basic NUL in name", basic("ad\u0000min:x")],
    ["Basic huge", basic(`admin:${"p".repeat(6000)}`)],
    ["unknown scheme", "Digest username=admin"],
    ["latin-1 bytes", "Bearer \u00ff\u00fe"],
  ];
  const rpcPaths = ["/flux.restful.v1.JobService/ListJobs", "/flux.restful.v1.JobService/GetJob", "/flux.restful.v1.JobService/SubmitJob", "/flux.restful.v1.AdminService/ListUsers", "/flux.restful.v1.AdminService/StopService", "/flux.restful.v1.JobService/ListNodes"];
  const restPaths: [string, string][] = [
    ["GET", "/v1/jobs"],
    ["POST", "/v1/jobs/submit?command=true"],
    ["GET", "/v1/jobs/f1"],
    ["GET", "/v1/nodes"],
    ["POST", "/v1/service/stop"],
    ["GET", "/v1/jobs/f1/output/stream"],
  ];
  const out: MalformedCase[] = [];
  for (let i = 0; i < options.count; i++) {
    const [note, auth] = random.pick(credentials);
    const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
    const httpVersion = random.chance(0.5) ? "1.1" : "2";
    const roll = random.int(4);
    let request: RawRequest;
    let answer: MalformedCase["answer"];
    if (roll === 0) {
      const [method, path] = random.pick(restPaths);
      request = { httpVersion, method, path, headers };
      answer = "http";
    } else if (roll === 1) {
      request = { httpVersion: "2", method: "POST", path: random.pick(rpcPaths), headers: { ...headers, "content-type": "application/grpc", te: "trailers" }, body: Buffer.from([0, 0, 0, 0, 0]) };
      answer = "grpc";
    } else if (roll === 2) {
      request = { httpVersion, method: "POST", path: random.pick(rpcPaths), headers: { ...headers, "content-type": "application/json" }, body: Buffer.alloc(0) };
      answer = "connect-unary";
    } else {
      request = { httpVersion, method: "POST", path: "/v1/token", headers };
      out.push({ family: "credentials", target: `POST /v1/token (HTTP/${httpVersion})`, note, request, answer: "http", expect: { codes: [], statuses: [400, 429] } });
      continue;
    }
    // A well-formed body that each RPC accepts, so only the credentials are wrong.
    if (answer === "connect-unary") {
      const path = request.path;
      const body = path.endsWith("/SubmitJob") ? '{"command":["true"]}' : path.endsWith("/GetJob") ? '{"id":"f1"}' : "{}";
      request.body = Buffer.from(body);
    }
    out.push({
      family: "credentials",
      target: `${request.method} ${request.path.split("?")[0]} (${answer}, HTTP/${request.httpVersion})`,
      note,
      request,
      answer,
      expect: { codes: ["unauthenticated", "resource_exhausted"], statuses: [401, 429] },
    });
  }
  return out;
}
