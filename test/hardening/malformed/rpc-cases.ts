/**
 * Malformed calls of one RPC over one protocol: broken and mistyped JSON, unknown fields,
 * invalid UTF-8, huge strings and maps, out-of-range numbers, protobuf that does not decode,
 * broken envelopes, wrong content types and methods, bad timeouts, oversized bodies, and the
 * well-encoded requests the service must refuse. Every binary body that should not decode is
 * checked here to really not decode, so no valid request slips into the mix.
 */
import { fromBinary, fromJson, ScalarType, toBinary, type DescField, type DescMessage, type JsonObject } from "@bufbuild/protobuf";
import type { RawRequest } from "../raw-client.js";
import { invalidArgument, type AnswerKind, type Expectation, type MalformedCase } from "./malformed-case.js";
import type { RpcTarget } from "./rpc-catalog.js";
import { envelope, INVALID_UTF8, lengthDelimited, tag, varint, type Random } from "./wire.js";

export type RpcProtocol = "connect-json" | "connect-binary" | "grpc" | "grpc-web";
export const RPC_PROTOCOLS: readonly RpcProtocol[] = ["connect-json", "connect-binary", "grpc", "grpc-web"];

export interface RpcCaseOptions {
  maxRequestBytes: number;
}

interface Shape {
  binary: boolean;
  enveloped: boolean;
  contentType: string;
  encodingHeader: string;
  httpVersion: "1.1" | "2";
  answer: AnswerKind;
  extraHeaders: Record<string, string>;
}

const isStream = (t: RpcTarget) => t.method.methodKind !== "unary";
const isBidi = (t: RpcTarget) => t.method.methodKind === "bidi_streaming";

function shapeOf(t: RpcTarget, protocol: RpcProtocol, random: Random): Shape {
  // Bidi calls need HTTP/2 on every protocol (over HTTP/1.1 they are refused: a case of its own).
  const h2 = isBidi(t) || random.chance(0.5);
  switch (protocol) {
    case "connect-json":
      return isStream(t)
        ? { binary: false, enveloped: true, contentType: "application/connect+json", encodingHeader: "connect-content-encoding", httpVersion: isBidi(t) ? "2" : "1.1", answer: "connect-stream", extraHeaders: {} }
        : { binary: false, enveloped: false, contentType: "application/json", encodingHeader: "content-encoding", httpVersion: "1.1", answer: "connect-unary", extraHeaders: {} };
    case "connect-binary":
      return isStream(t)
        ? { binary: true, enveloped: true, contentType: "application/connect+proto", encodingHeader: "connect-content-encoding", httpVersion: h2 ? "2" : "1.1", answer: "connect-stream", extraHeaders: {} }
        : { binary: true, enveloped: false, contentType: "application/proto", encodingHeader: "content-encoding", httpVersion: h2 ? "2" : "1.1", answer: "connect-unary", extraHeaders: {} };
    case "grpc":
      return { binary: true, enveloped: true, contentType: "application/grpc", encodingHeader: "grpc-encoding", httpVersion: "2", answer: "grpc", extraHeaders: { te: "trailers" } };
    case "grpc-web":
      return { binary: true, enveloped: true, contentType: "application/grpc-web+proto", encodingHeader: "grpc-encoding", httpVersion: isBidi(t) ? "2" : "1.1", answer: "grpc-web", extraHeaders: {} };
  }
}

function request(t: RpcTarget, shape: Shape, body: Buffer | undefined, headers: Record<string, string> = {}): RawRequest {
  return {
    httpVersion: shape.httpVersion,
    method: "POST",
    path: t.path,
    headers: { "content-type": shape.contentType, ...shape.extraHeaders, ...headers },
    body,
  };
}

/** The message bytes framed as the protocol sends them. */
const framed = (shape: Shape, message: Buffer) => (shape.enveloped ? envelope(message) : message);

function decodes(desc: DescMessage, bytes: Buffer): boolean {
  try {
    fromBinary(desc, bytes);
    return true;
  } catch {
    return false;
  }
}

/** A JSON value of the wrong type for the field (never one protobuf JSON would accept). */
function wrongJsonFor(field: DescField, random: Random): unknown {
  switch (field.fieldKind) {
    case "list":
      return random.pick(["a string", { an: "object" }, 7, [[1]], [{}]]);
    case "map":
      return random.pick([["an", "array"], "a string", 7, { k: 1 }, { k: { nested: true } }]);
    case "message":
      return random.pick(["a string", 7, [1, 2], true]);
    case "enum":
      return random.pick(["NO_SUCH_VALUE", { an: "object" }, 1.5]);
    case "scalar":
      switch (field.scalar) {
        case ScalarType.STRING:
          return random.pick([123, true, { an: "object" }, ["a"], 1.5]);
        case ScalarType.BOOL:
          return random.pick([1, "yes", { an: "object" }, ["true"]]);
        case ScalarType.DOUBLE:
        case ScalarType.FLOAT:
          return random.pick([true, "abc", { an: "object" }, [1]]);
        case ScalarType.BYTES:
          return random.pick(["!!not base64!!", 12, true]);
        default:
          // integers: fractions, words, out of range for 32 and 64 bits
          return random.pick([1.5, "abc", true, { an: "object" }, 2 ** 64, -(2 ** 64), "1e400", "Infinity"]);
      }
  }
}

/** Out of the type's range: never decodable. */
function outOfRangeFor(field: DescField, random: Random): unknown | undefined {
  if (field.fieldKind !== "scalar") return undefined;
  switch (field.scalar) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return random.pick([2 ** 31, -(2 ** 31) - 1, 2 ** 53, -1e20]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return random.pick([-1, 2 ** 32, -(2 ** 31)]);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return random.pick(["-1", "18446744073709551616", "1e30", -5]);
    case ScalarType.INT64:
      return random.pick(["9223372036854775808", "-9223372036854775809"]);
    default:
      return undefined;
  }
}

const BROKEN_JSON = ["{", '{"', "}", "{,}", '{"id":}', "{'id':'x'}", '{"a":1', "[", "nul", "NaN", '{"a":1} trailing', "\u0000", "{/* comment */}", '{"a":01}', '{"a":.5}', '{"a":"\\x41"}', '{"a":"\t"}'];

export function rpcCase(t: RpcTarget, protocol: RpcProtocol, random: Random, options: RpcCaseOptions): MalformedCase {
  const shape = shapeOf(t, protocol, random);
  const desc = t.method.input;
  const fields = desc.fields;
  const base = (family: string, note: string, req: RawRequest, expect: Expectation = invalidArgument, answer: AnswerKind = shape.answer): MalformedCase => ({
    family,
    target: `${t.name} over ${protocol} (HTTP/${req.httpVersion})`,
    note,
    request: req,
    answer,
    expect,
  });

  if (isBidi(t) && random.chance(0.15)) {
    const req = request(t, { ...shape, httpVersion: "1.1" }, framed(shape, Buffer.alloc(0)));
    return base("bidi-over-http1", "a bidi stream over HTTP/1.1", req, { codes: ["invalid_argument"], statuses: [400] }, "http");
  }

  const families: [string, number][] = [
    ["semantic", t.semantic.length > 0 ? 6 : 0],
    ["json-syntax", shape.binary ? 0 : 2],
    ["json-wrong-type", !shape.binary && fields.length > 0 ? 2 : 0],
    ["json-unknown-field", shape.binary ? 0 : 1],
    ["json-not-an-object", shape.binary ? 0 : 1],
    ["json-out-of-range", !shape.binary && fields.some((f) => outOfRangeFor(f, random) !== undefined) ? 1 : 0],
    ["invalid-utf8", 1],
    ["binary-garbage", shape.binary ? 2 : 0],
    ["binary-structure", shape.binary ? 2 : 0],
    ["envelope", shape.enveloped ? 2 : 0],
    ["compression", 1],
    ["content-type", 1],
    ["http-method", 0.7],
    ["timeout-header", 0.5],
    ["oversized", 0.15],
    ["unknown-path", 0.4],
  ];
  const total = families.reduce((a, [, w]) => a + w, 0);
  let roll = random.next() * total;
  const family = families.find(([, w]) => (roll -= w) < 0)?.[0] ?? "json-syntax";

  switch (family) {
    case "semantic": {
      const c = random.pick(t.semantic);
      const bytes = shape.binary ? Buffer.from(toBinary(desc, fromJson(desc, c.message))) : Buffer.from(JSON.stringify(c.message));
      return base(family, c.note, request(t, shape, framed(shape, bytes)), { codes: c.expect });
    }
    case "json-syntax": {
      const text = random.pick(BROKEN_JSON);
      return base(family, JSON.stringify(text), request(t, shape, framed(shape, Buffer.from(text))));
    }
    case "json-wrong-type": {
      const field = random.pick(fields);
      const value = wrongJsonFor(field, random);
      const text = JSON.stringify({ [random.chance(0.5) ? field.jsonName : field.name]: value });
      return base(family, `${field.name} = ${text.slice(0, 60)}`, request(t, shape, framed(shape, Buffer.from(text))));
    }
    case "json-unknown-field": {
      const name = random.pick(["bogus", "idd", "page_sise", "__proto__", "constructor", "x".repeat(300), "@type"]);
      const text = `{${JSON.stringify(name)}:${random.pick(["1", '"v"', "null", "{}", "[]"])}}`;
      // JSON null for an unknown field is still an unknown field.
      return base(family, `unknown field ${name.slice(0, 20)}`, request(t, shape, framed(shape, Buffer.from(text))));
    }
    case "json-not-an-object": {
      const text = random.pick(["[]", "[1,2]", '"a string"', "42", "true", "null", ""]);
      return base(family, JSON.stringify(text), request(t, shape, framed(shape, Buffer.from(text))));
    }
    case "json-out-of-range": {
      const field = random.pick(fields.filter((f) => outOfRangeFor(f, random) !== undefined));
      const text = JSON.stringify({ [field.jsonName]: outOfRangeFor(field, random) });
      return base(family, text.slice(0, 80), request(t, shape, framed(shape, Buffer.from(text))));
    }
    case "invalid-utf8": {
      const bad = random.pick(INVALID_UTF8);
      const stringField = fields.find((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING);
      let bytes: Buffer;
      if (!shape.binary) {
        const key = stringField?.jsonName ?? "k";
        bytes = Buffer.concat([Buffer.from(`{"${key}":"a`), bad, Buffer.from('b"}')]);
      } else if (stringField !== undefined) {
        bytes = lengthDelimited(stringField.number, Buffer.concat([Buffer.from("a"), bad]));
      } else {
        // No string field: invalid UTF-8 cannot be wrong by type, so send it as a broken tag instead.
        bytes = Buffer.concat([bad, Buffer.from([0x0f])]);
      }
      if (shape.binary && decodes(desc, bytes)) bytes = Buffer.from([0x0f]);
      return base(family, `bytes ${bad.toString("hex")} in a string`, request(t, shape, framed(shape, bytes)));
    }
    case "binary-garbage": {
      let bytes = random.bytes(1 + random.int(64));
      for (let i = 0; i < 8 && decodes(desc, bytes); i++) bytes = random.bytes(1 + random.int(64));
      if (decodes(desc, bytes)) bytes = Buffer.from([0x0f]);
      return base(family, `${bytes.length} random bytes`, request(t, shape, framed(shape, bytes)));
    }
    case "binary-structure": {
      const f = fields.length > 0 ? random.pick(fields).number : 1;
      const variants: [string, Buffer][] = [
        ["truncated varint", Buffer.concat([tag(f, 0), Buffer.from([0xff, 0xff])])],
        ["length past the end", Buffer.concat([tag(f, 2), varint(1000), Buffer.from("abc")])],
        ["length of 2^32", Buffer.concat([tag(f, 2), varint(2 ** 32), Buffer.from("abc")])],
        ["wire type 6", tag(f, 6)],
        ["wire type 7", tag(f, 7)],
        ["field number 0", Buffer.concat([tag(0, 0), Buffer.from([1])])],
        ["end group without start", tag(f, 4)],
        ["group never ended", Buffer.concat([tag(f, 3), tag(f + 1, 0), Buffer.from([1])])],
        ["fixed64 cut short", Buffer.concat([tag(f, 1), Buffer.from([1, 2, 3])])],
        ["tag varint of 11 bytes", Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
      ];
      const [note, bytes0] = random.pick(variants);
      const bytes = decodes(desc, bytes0) ? Buffer.from([0x0f]) : bytes0;
      return base(family, note, request(t, shape, framed(shape, bytes)));
    }
    case "envelope": {
      const ok = shape.binary ? Buffer.alloc(0) : Buffer.from("{}");
      const variants: [string, Buffer, Expectation?][] = [
        ["no bytes at all", Buffer.alloc(0)],
        ["3 bytes of an envelope header", Buffer.from([0, 0, 0])],
        ["length larger than the body", envelope(ok, 0, ok.length + 50)],
        ["two messages", Buffer.concat([envelope(ok), envelope(ok)])],
        ["trailing bytes", Buffer.concat([envelope(ok), Buffer.from([1, 2])])],
        ["flags 0x02", envelope(ok, 0x02)],
        ["flags 0x80", envelope(ok, 0x80)],
        ["flags 0xff", envelope(ok, 0xff)],
        ["compressed flag without compression", envelope(ok, 0x01)],
        ["length of 4 GiB", envelope(ok, 0, 0xffffffff), { codes: ["resource_exhausted"] }],
      ];
      // Streams that take any number of messages (reflection) may get none or two.
      const usable = isBidi(t) ? variants.filter(([n]) => n !== "two messages" && n !== "no bytes at all") : variants;
      const [note, body, expect] = random.pick(usable);
      return base(family, note, request(t, shape, body), expect);
    }
    case "compression": {
      const ok = shape.binary ? Buffer.alloc(0) : Buffer.from("{}");
      const flag = shape.enveloped ? 0x01 : 0;
      const wrap = (b: Buffer) => (shape.enveloped ? envelope(b, flag) : b);
      const variants: [string, Buffer, Record<string, string>][] = [
        ["unknown compression", wrap(ok), { [shape.encodingHeader]: random.pick(["bogus", "zstd", "gzip, br", "x".repeat(100)]) }],
        ["gzip that is not gzip", wrap(random.bytes(12)), { [shape.encodingHeader]: "gzip" }],
        ["brotli that is not brotli", wrap(Buffer.from([0xff, 0xff, 0xff, 0xff])), { [shape.encodingHeader]: "br" }],
      ];
      const [note, body, headers] = random.pick(variants);
      return base(family, note, request(t, shape, body, headers));
    }
    case "content-type": {
      const type = random.pick(["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "", "image/png", "application/grpc-web-text", "application/connect+bogus", "application/grpc+bogus", "application/json-seq"]);
      const req = request(t, shape, framed(shape, shape.binary ? Buffer.alloc(0) : Buffer.from("{}")));
      if (type === "") delete req.headers["content-type"];
      else req.headers["content-type"] = type;
      return base(family, `content-type "${type}"`, req, { codes: ["invalid_argument"], statuses: [415] }, "http");
    }
    case "http-method": {
      const method = random.pick(["PUT", "DELETE", "PATCH", "GET"]);
      const idempotent = t.method.idempotency === 1; // NO_SIDE_EFFECTS
      if (method === "GET" && idempotent) {
        const q = random.pick(["encoding=proto&base64=1&message=!!!!", "encoding=proto&base64=1&message=D_8", "encoding=json&message=%7B", "encoding=json&message=%7B%22bogus%22%3A1%7D", "message=e30", "encoding=yaml&message=e30", "encoding=json&message=e30&base64=1&compression=bogus"]);
        const statuses = q.startsWith("message=") || q.includes("yaml") ? [415] : [400];
        return base(family, `GET ?${q}`, { httpVersion: "1.1", method: "GET", path: `${t.path}?${q}`, headers: {} }, { codes: ["invalid_argument"], statuses }, "http");
      }
      const req = request(t, shape, method === "GET" ? undefined : framed(shape, Buffer.alloc(0)));
      req.method = method;
      return base(family, method, req, { codes: ["invalid_argument"], statuses: [405] }, "http");
    }
    case "timeout-header": {
      const [name, value] = shape.answer === "grpc" || shape.answer === "grpc-web"
        ? ["grpc-timeout", random.pick(["1", "99999999999H", "1x", "-5S", "abc", "1.5S"])]
        : ["connect-timeout-ms", random.pick(["-1", "abc", "99999999999", "1.5", "1e3"])];
      const body = framed(shape, shape.binary ? Buffer.alloc(0) : Buffer.from("{}"));
      return base(family, `${name}: ${value}`, request(t, shape, body, { [name]: value }));
    }
    case "oversized": {
      const size = options.maxRequestBytes + 1 + random.int(4096);
      const payload = shape.binary ? lengthDelimited(1, Buffer.alloc(size, 0x61)) : Buffer.from(JSON.stringify({ bogus: "a".repeat(size) }));
      const req = request(t, shape, framed(shape, payload));
      if (shape.httpVersion === "1.1" && random.chance(0.5)) req.chunked = true;
      return base(family, `${payload.length} bytes${req.chunked ? ", chunked" : ""}`, req, { codes: ["resource_exhausted"], statuses: [413] });
    }
    default: {
      const [svc, m] = [t.service.typeName, t.method.name];
      const path = random.pick([`/${svc}/Nope`, `/${svc}.Nope/${m}`, `/${svc}/${m.toLowerCase()}`, `/${svc}/${m}/extra`, `//${svc}/${m}`, `/${svc}/${m}%00`, `/${svc}`, `/${svc}/${m}/..`]);
      const req = request(t, shape, framed(shape, Buffer.alloc(0)));
      req.path = path;
      return base("unknown-path", path, req, { codes: [], statuses: [404] }, "http");
    }
  }
}
