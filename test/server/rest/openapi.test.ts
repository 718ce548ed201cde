/**
 * GET /openapi.json: an OpenAPI 3 document that describes every legacy route, and only
 * routes that exist, with the parameters they accept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchRestRoute, REST_ROUTES } from "../../../server/rest/index.js";
import { SUBMIT_FIELDS } from "../../../server/rest/submit-request.js";
import { startTestServer, type TestServer } from "../../support/start-test-server.js";
import { request } from "./rest-helpers.js";

let server: TestServer;
let doc: any;

type Operation = { parameters?: { name: string; in: string; schema: { type: string } }[]; responses: Record<string, unknown> };

beforeAll(async () => {
  server = await startTestServer();
  const res = await request(`${server.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  doc = JSON.parse(res.text);
});
afterAll(async () => {
  await server?.close();
});

const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op, sample: path.replace("{id}", "123") })),
  );

describe("the OpenAPI document", () => {
  it("is OpenAPI 3 with a title, and every $ref resolves", () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBeTruthy();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(doc.components.schemas, name).toHaveProperty(name);
  });

  it("describes every route, and nothing that is not a route", () => {
    const described = operations().map((o) => {
      const route = matchRestRoute(o.sample, o.method).found?.route;
      expect(route, `${o.method} ${o.path} is not a route`).toBeDefined();
      expect(Object.keys(o.op.responses), `${o.method} ${o.path}`).toContain("200");
      return route;
    });
    for (const route of REST_ROUTES) {
      expect(described.filter((r) => r === route).length, `${route.method} ${route.pattern}`).toBe(1);
    }
  });

  it("documents exactly the submit fields the route reads", () => {
    const submit = doc.paths["/v1/jobs/submit"].post as Operation;
    expect(submit.parameters!.map((p) => p.name).sort()).toEqual([...SUBMIT_FIELDS].sort());
    expect(Object.keys(doc.components.schemas.SubmitFields.properties).sort()).toEqual([...SUBMIT_FIELDS].sort());
  });

  it("documents only query parameters the server accepts", async () => {
    const samples: Record<string, string> = { boolean: "true", integer: "1", number: "1", string: "x" };
    for (const o of operations()) {
      for (const p of (o.op.parameters ?? []).filter((p) => p.in === "query")) {
        const extra = o.path === "/v1/jobs/submit" && p.name !== "command" ? "&command=true" : "";
        const url = `${server.url}${o.sample}?${new URLSearchParams({ [p.name]: samples[p.schema.type]! })}${extra}`;
        const res = await request(url, { method: o.method });
        expect(res.text, `${o.method} ${o.path} ${p.name}`).not.toContain("unknown parameter");
        expect(res.status, `${o.method} ${o.path} ${p.name}: ${res.text}`).toBeLessThan(500);
      }
    }
  });
});
