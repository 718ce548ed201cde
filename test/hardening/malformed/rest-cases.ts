/**
 * Malformed requests to every legacy REST route and every plain HTTP route (health, web UI):
 * path tricks in ids, bad percent-encoding and UTF-8, unknown and mistyped parameters, broken
 * and mistyped bodies, wrong content types and methods, oversized bodies and headers, and
 * requests from another origin. None of them may change anything: the stop route only ever
 * gets requests it must refuse.
 */
import type { RawRequest } from "../raw-client.js";
import type { Expectation, MalformedCase } from "./malformed-case.js";
import { MALFORMED_IDS, UNKNOWN_IDS } from "./rpc-catalog.js";
import { INVALID_UTF8, type Random } from "./wire.js";

export interface RestCaseOptions {
  maxRequestBytes: number;
  maxHeaderBytes: number;
}

const status = (...statuses: number[]): Expectation => ({ codes: [], statuses });

/** Paths with an {id}: [method, path for id]. */
const ID_ROUTES: [string, (id: string) => string][] = [
  ["GET", (id) => `/v1/jobs/${id}`],
  ["POST", (id) => `/v1/jobs/${id}/cancel`],
  ["GET", (id) => `/v1/jobs/${id}/output`],
  ["GET", (id) => `/v1/jobs/${id}/output/stream`],
];

/** Every route and the methods it allows. */
const ROUTES: [string, string][] = [
  ["POST", "/v1/token"],
  ["POST", "/v1/login/access-token"],
  ["GET", "/v1/jobs"],
  ["GET", "/v1/jobs/search"],
  ["POST", "/v1/jobs/submit"],
  ["GET", "/v1/jobs/f1"],
  ["POST", "/v1/jobs/f1/cancel"],
  ["GET", "/v1/jobs/f1/output"],
  ["GET", "/v1/jobs/f1/output/stream"],
  ["GET", "/v1/nodes"],
  ["POST", "/v1/service/stop"],
  ["GET", "/openapi.json"],
  ["GET", "/healthz"],
  ["GET", "/readyz"],
  ["GET", "/jobs"],
  ["GET", "/static/app.js"],
];

/** Routes that refuse parameters they do not know (search is lenient, as DataTables needs). */
const STRICT_QUERY = ["/v1/token", "/v1/login/access-token", "/v1/jobs", "/v1/jobs/f1", "/v1/jobs/f1/output", "/v1/jobs/f1/output/stream", "/v1/nodes", "/v1/service/stop", "/openapi.json"];

const BAD_PARAMS: [string, string][] = [
  ["/v1/jobs", "limit=-1"],
  ["/v1/jobs", "limit=abc"],
  ["/v1/jobs", "limit=1.5"],
  ["/v1/jobs", "limit=99999999999999999999"],
  ["/v1/jobs", "detail=maybe"],
  ["/v1/jobs", "details=2"],
  ["/v1/jobs", "listing=%20x"],
  ["/v1/jobs/search", "start=-1"],
  ["/v1/jobs/search", "length=abc"],
  ["/v1/jobs/search", "length=-2"],
  ["/v1/jobs/search", "draw=-1"],
  ["/v1/jobs/search", `search=${"s".repeat(1025)}`],
  ["/v1/jobs/search", "start=1e3"],
];

/** Submit requests that must be refused: [note, query, content type, body]. */
function submitVariants(random: Random): [string, string, string | undefined, Buffer | undefined][] {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const J = "application/json";
  return [
    ["no command", "", undefined, undefined],
    ["JSON without command (an environment)", "", J, json({ A: "b" })],
    ["broken JSON", "", J, Buffer.from(random.pick(["{", '{"command":', "{'command':'x'}", "[", '{"command":"true"} x']))],
    ["JSON array", "", J, json(["true"])],
    ["JSON string", "", J, json("true")],
    ["command as a number", "", J, json({ command: 5 })],
    ["object in the argv", "", J, json({ command: ["echo", {}] })],
    ["unterminated quote", "", J, json({ command: "echo 'unterminated" })],
    ["num_tasks as words", "", J, json({ command: "true", num_tasks: "abc" })],
    ["num_tasks -1", "", J, json({ command: "true", num_tasks: -1 })],
    ["num_tasks 2^40", "", J, json({ command: "true", num_tasks: 2 ** 40 })],
    ["num_tasks 2^31 in the query", "command=true&num_tasks=2147483648", undefined, undefined],
    ["exclusive maybe", "command=true&exclusive=maybe", undefined, undefined],
    ["unknown field", "", J, json({ command: "true", bogus: 1 })],
    ["unknown parameter", "command=true&bogus=1", undefined, undefined],
    ["field twice", "command=true", J, json({ command: "true" })],
    ["negative runtime", "", J, json({ command: "true", runtime: -5 })],
    ["runtime as words", "", J, json({ command: "true", runtime: "soon" })],
    ["envars not a dict", "", J, json({ command: "true", envars: "A" })],
    ["envars with a bad name", "", J, json({ command: "true", envars: { "1BAD": "x" } })],
    ["option_flags not k=v", "", J, json({ command: "true", option_flags: "-ompi" })],
    ["relative workdir", "", J, json({ command: "true", workdir: "rel/dir" })],
    ["launcher that is not allowed", "", J, json({ command: "true", is_launcher: true })],
    ["form with a bad number", "", "application/x-www-form-urlencoded", Buffer.from("command=true&num_tasks=x")],
    ["form with an unknown field", "", "application/x-www-form-urlencoded", Buffer.from("command=true&nope=1")],
    ["unsupported content type", "", "text/xml", Buffer.from("<job><command>true</command></job>")],
    ["multipart body", "", "multipart/form-data; boundary=x", Buffer.from("--x\r\nContent-Disposition: form-data; name=\"command\"\r\n\r\ntrue\r\n--x--")],
    ["invalid UTF-8 in JSON", "", J, Buffer.concat([Buffer.from('{"command":"echo '), random.pick(INVALID_UTF8), Buffer.from('"}')])],
    ["invalid UTF-8 in the query", `command=echo%20${random.pick(["%FF", "%C0%AF", "%ED%A0%80"])}`, undefined, undefined],
    ["bad escape in the query", "command=echo%ZZ", undefined, undefined],
    ["deeply nested JSON", "", J, Buffer.from("[".repeat(50_000) + "]".repeat(50_000))],
    ["huge argv", "", J, json({ command: ["echo", "x".repeat(70_000)] })],
    ["huge environment", "", J, json({ command: "true", envars: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`K${i}`, "v"])) })],
  ];
}

function loginVariants(): [string, string | undefined, Buffer | undefined][] {
  return [
    ["no body", undefined, undefined],
    ["JSON array", "application/json", Buffer.from("[1]")],
    ["broken JSON", "application/json", Buffer.from('{"username":')],
    ["unknown field", "application/x-www-form-urlencoded", Buffer.from("username=a&password=b&nope=1")],
    ["wrong grant type", "application/x-www-form-urlencoded", Buffer.from("username=a&password=b&grant_type=client_credentials")],
    ["password as a number", "application/json", Buffer.from('{"username":"a","password":5}')],
    ["unknown user", "application/x-www-form-urlencoded", Buffer.from("username=nobody-here&password=b")],
    ["invalid UTF-8", "application/x-www-form-urlencoded", Buffer.concat([Buffer.from("username="), INVALID_UTF8[0]!, Buffer.from("&password=b")])],
  ];
}

export function restCase(random: Random, options: RestCaseOptions): MalformedCase {
  const httpVersion = random.chance(0.7) ? "1.1" : "2";
  const make = (family: string, note: string, req: Omit<RawRequest, "httpVersion">, expect: Expectation): MalformedCase => ({
    family,
    target: `${req.method} ${req.path.split("?")[0]!.slice(0, 60)} (HTTP/${httpVersion})`,
    note,
    request: { httpVersion, ...req },
    answer: "http",
    expect,
  });
  const families = ["id", "query-unknown", "query-value", "query-encoding", "submit", "login", "token", "method", "oversized", "header", "origin", "path"];
  const weights = [6, 2, 2, 1, 6, 2, 1, 2, 1, 0.5, 0.5, 1.5];
  let roll = random.next() * weights.reduce((a, b) => a + b, 0);
  const family = families[weights.findIndex((w) => (roll -= w) < 0)] ?? "id";

  switch (family) {
    case "id": {
      const [method, pathFor] = random.pick(ID_ROUTES);
      if (random.chance(0.2)) {
        const id = random.pick(UNKNOWN_IDS);
        return make(family, `unknown id ${id}`, { method, path: pathFor(encodeURIComponent(id)), headers: {} }, status(404));
      }
      const raw = random.chance(0.3)
        ? random.pick(["%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%ZZ", "%FF", "%C0%AF", "%", "..%00", "%E2%80%AE", "%2F"])
        : encodeURIComponent(random.pick(MALFORMED_IDS.filter((id) => id !== "")));
      const path = pathFor(raw);
      // A path past the header limit is refused before routing: 431, or a refused HTTP/2 stream.
      const expect = path.length > options.maxHeaderBytes ? { codes: [], statuses: [431], refusedStream: true } : status(400, 404);
      return make(family, `id ${raw.slice(0, 30)}`, { method, path, headers: {} }, expect);
    }
    case "query-unknown": {
      const path = random.pick(STRICT_QUERY);
      const method = ROUTES.find(([, p]) => p === path)![0];
      const q = random.pick(["bogus=1", "limit=1&bogus=", "__proto__=1", `${"k".repeat(200)}=v`, "a=1&a=2&b"]);
      return make(family, q.slice(0, 40), { method, path: `${path}?${q}`, headers: {} }, status(400));
    }
    case "query-value": {
      const [path, q] = random.pick(BAD_PARAMS);
      return make(family, q.slice(0, 40), { method: "GET", path: `${path}?${q}`, headers: {} }, status(400));
    }
    case "query-encoding": {
      const path = random.pick(["/v1/jobs", "/v1/jobs/search", "/v1/nodes", "/v1/jobs/f1"]);
      const q = random.pick(["limit=%ZZ", "search=%FF", "query=%C0%AF", "limit=%", "detail=%ED%A0%80"]);
      return make(family, q, { method: "GET", path: `${path}?${q}`, headers: {} }, status(400));
    }
    case "submit": {
      const [note, query, type, body] = random.pick(submitVariants(random));
      const headers: Record<string, string> = type ? { "content-type": type } : {};
      const tooBig = note === "huge environment" && (body?.length ?? 0) > options.maxRequestBytes;
      return make(family, note, { method: "POST", path: `/v1/jobs/submit${query ? `?${query}` : ""}`, headers, body }, tooBig ? status(413) : status(400, 413, 415));
    }
    case "login": {
      const [note, type, body] = random.pick(loginVariants());
      return make(family, note, { method: "POST", path: "/v1/login/access-token", headers: type ? { "content-type": type } : {}, body }, status(400, 429));
    }
    case "token": {
      const auth = random.pick([undefined, "", "Bearer", "Bearer a.b.c", `Bearer ${"x".repeat(5000)}`, "Basic !!!", "Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyIjoiYSJ9."]);
      return make(family, `authorization ${String(auth).slice(0, 30)}`, { method: "POST", path: "/v1/token", headers: auth === undefined ? {} : { authorization: auth } }, status(400, 429));
    }
    case "method": {
      const [allowed, path] = random.pick(ROUTES);
      const method = random.pick(["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", allowed === "GET" ? "POST" : "GET"]);
      // POST to a page of the web UI is refused there; GET on a POST route is refused by REST.
      return make(family, method, { method, path, headers: {}, body: method === "GET" || method === "TRACE" ? undefined : Buffer.from("x") }, status(404, 405));
    }
    case "oversized": {
      const [method, path] = random.pick(ROUTES);
      const size = options.maxRequestBytes + 1 + random.int(8192);
      // Routes that take no body (health, web UI) never read one: a declared length over the
      // limit is refused up front, a chunked body is left unread (see docs/operations.md).
      const readsBody = path.startsWith("/v1/") || path === "/openapi.json";
      const chunked = readsBody && httpVersion === "1.1" && random.chance(0.5);
      const req = { method, path, headers: { "content-type": "application/json" }, body: Buffer.alloc(size, 0x20), chunked };
      return make(family, `${size} bytes${chunked ? ", chunked" : ""}`, req, status(413));
    }
    case "header": {
      const [method, path] = random.pick(ROUTES.filter(([m]) => m === "GET"));
      // HTTP/2: a client may send its first request before it has the server's settings, which
      // nghttp2 then holds to its default of 64 KiB; past that every request is refused.
      const size = httpVersion === "2" ? 65_536 + random.int(4096) : options.maxHeaderBytes + 1 + random.int(4096);
      const big = "h".repeat(size);
      return make(family, `header of ${big.length} bytes`, { method, path, headers: { "x-big": big } }, { codes: [], statuses: [431], refusedStream: true });
    }
    case "origin": {
      const [, path] = random.pick(ROUTES.filter(([m]) => m === "POST"));
      const origin = random.pick(["http://evil.example", "null", "not a url", "https://127.0.0.1.evil.example"]);
      return make(family, `origin ${origin}`, { method: "POST", path, headers: { origin } }, status(403));
    }
    default: {
      const path = random.pick(["/v1/../etc/passwd", "/v1//jobs", "/v1/jobs//cancel", "/static/../../etc/passwd", "/static/%2e%2e%2fpackage.json", "/static/", "/static/index.html", "/v1/jobs/f1/output/stream/extra", "/v1", "/v1/", "/%00", "/.env", "/.git/config"]);
      return make("path", path, { method: "GET", path, headers: {} }, status(400, 404, 405));
    }
  }
}
