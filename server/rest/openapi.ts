/**
 * The OpenAPI 3 description of the legacy routes, served at GET /openapi.json. Kept by
 * hand next to the routes; a test checks that every route is described.
 */
import { OPENAPI_SCHEMAS } from "./openapi-schemas.js";

const json = (schema: object) => ({ "application/json": { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (description: string, schema?: object) => (schema ? { description, content: json(schema) } : { description });

const jobIdParam = {
  name: "id",
  in: "path",
  required: true,
  description: "Job id in any RFC 19 encoding: decimal, f58 (ƒ or f prefix), hex (0x), dothex, kvs (job.), words.",
  schema: { type: "string" },
};
const boolParam = (name: string, description: string) => ({ name, in: "query", required: false, description, schema: { type: "boolean" } });
const intParam = (name: string, description: string, minimum?: number) => ({
  name,
  in: "query",
  required: false,
  description,
  schema: minimum === undefined ? { type: "integer" } : { type: "integer", minimum },
});
const strParam = (name: string, description: string) => ({ name, in: "query", required: false, description, schema: { type: "string" } });

const errors = {
  "400": response("Bad input: a malformed id or parameter.", ref("InvalidRequest")),
  "401": response("Missing, bad or expired credentials (auth on); WWW-Authenticate says how to authenticate.", ref("Message")),
  "403": response("Another user's job, or an action reserved for superusers.", ref("Message")),
};
const jobErrors = { ...errors, "404": response("No such job.", ref("Message")) };

const SUBMIT_PARAMS = [
  strParam("command", "The command, split like a shell (Python shlex). Required (here or in a JSON body)."),
  intParam("num_tasks", "Number of tasks (flux submit -n); default 1.", 1),
  intParam("cores_per_task", "Cores per task (-c); default 1.", 1),
  intParam("gpus_per_task", "GPUs per task (-g); default 0.", 0),
  intParam("num_nodes", "Nodes to spread the tasks over (-N); at most num_tasks.", 1),
  boolParam("exclusive", "Whole nodes (-x); needs num_nodes."),
  strParam("option_flags", 'Shell options "k=v,k2=v2" (keys without -o), applied after the server defaults (FLUX_OPTION_FLAGS).'),
  strParam("workdir", "Absolute working directory."),
  { ...intParam("runtime", "Time limit in seconds; 0 means none.", 0), schema: { type: "number", minimum: 0 } },
  boolParam("is_launcher", "The command is a workflow launcher from the server's list (nextflow, snakemake by default); it runs as a tracked job."),
  strParam("envars", 'Environment variables as a JSON object (or the text of a Python dict, as the 0.2 client sends it).'),
];

/** The document; plain data, serialised as is. */
export const OPENAPI_DOCUMENT = {
  openapi: "3.0.3",
  info: {
    title: "flux-restful legacy REST API (flux-restful-api 0.2 compatible)",
    version: "1",
    description:
      "The /v1 routes of flux-restful-api 0.2, answered by the same services as the Connect/gRPC API. " +
      "Job ids are exact JSON integers. With auth on, send `Authorization: Bearer <token>` (from POST /v1/token or /v1/login/access-token) or HTTP Basic.",
  },
  components: {
    schemas: OPENAPI_SCHEMAS,
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer" },
      basic: { type: "http", scheme: "basic" },
      password: { type: "oauth2", flows: { password: { tokenUrl: "/v1/login/access-token", scopes: {} } } },
    },
  },
  security: [{ bearer: [] }, { basic: [] }, { password: [] }],
  paths: {
    "/v1/token": {
      post: {
        summary: "Exchange a payload signed with FLUX_SECRET_KEY for an access token",
        description: 'Authorization: Bearer <HS256 JWT {"user", "pass", "scope": "token"}>. Refused credentials are 400 Denied.',
        security: [],
        responses: { "200": response("A token.", ref("Token")), "400": response("Denied.", ref("Denied")) },
      },
    },
    "/v1/login/access-token": {
      post: {
        summary: "Exchange a user name and password for an access token (OAuth2 password form)",
        security: [],
        requestBody: {
          required: true,
          content: {
            "application/x-www-form-urlencoded": {
              schema: {
                type: "object",
                properties: {
                  username: { type: "string" },
                  password: { type: "string" },
                  grant_type: { type: "string", enum: ["password"] },
                  scope: { type: "string" },
                  client_id: { type: "string" },
                  client_secret: { type: "string" },
                },
                required: ["username", "password"],
              },
            },
          },
        },
        responses: { "200": response("A token.", ref("Token")), "400": response("Denied, or a missing field.", ref("Denied")) },
      },
    },
    "/v1/jobs": {
      get: {
        summary: "List the caller's jobs (a superuser's: everyone's), newest first",
        parameters: [
          boolParam("details", "Detailed records keyed by decimal id (or a list with listing=true)."),
          boolParam("detail", "Alias of details (what the 0.2 client sends)."),
          boolParam("listing", "With details: a list instead of an object."),
          intParam("limit", "At most this many jobs.", 0),
        ],
        responses: {
          "200": response("{jobs: [...]}; with details, {\"<id>\": job} or [job].", {
            oneOf: [
              { type: "object", properties: { jobs: { type: "array", items: ref("Job") } }, required: ["jobs"] },
              { type: "object", additionalProperties: ref("Job") },
              { type: "array", items: ref("Job") },
            ],
          }),
          ...errors,
        },
      },
    },
    "/v1/jobs/search": {
      get: {
        summary: "The jQuery DataTables server-side feed",
        description:
          "recordsFiltered counts the matches before paging when draw is sent (DataTables); without draw it is the number of rows returned, as 0.2 answered.",
        parameters: [
          intParam("start", "First row (0-based).", 0),
          intParam("length", "Rows to return; -1 for all.", -1),
          intParam("draw", "Echoed back.", 0),
          strParam("search[value]", "Case-insensitive text to look for in id, name, owner, command, status or queue."),
          strParam("search", "Alias of search[value]."),
          strParam("query", "Alias of search[value] (what the 0.2 client sends)."),
        ],
        responses: { "200": response("A page of jobs.", ref("Search")), ...errors },
      },
    },
    "/v1/jobs/submit": {
      post: {
        summary: "Submit a job",
        parameters: SUBMIT_PARAMS,
        requestBody: {
          required: false,
          content: {
            "application/json": { schema: { oneOf: [ref("SubmitFields"), { type: "object", additionalProperties: { type: "string" } }] } },
            "application/x-www-form-urlencoded": { schema: { type: "object" } },
          },
        },
        responses: {
          "200": response("The new job's id.", ref("JobIdMessage")),
          "400": response("A missing command or an invalid field.", ref("InvalidRequest")),
          "401": errors["401"],
        },
      },
    },
    "/v1/jobs/{id}": {
      get: { summary: "One job's record", parameters: [jobIdParam], responses: { "200": response("The job.", ref("Job")), ...jobErrors } },
    },
    "/v1/jobs/{id}/cancel": {
      post: {
        summary: "Cancel a job",
        parameters: [jobIdParam],
        responses: {
          "200": response("The cancel was raised.", ref("JobIdMessage")),
          ...jobErrors,
          "409": response("The job is already INACTIVE.", ref("JobIdMessage")),
        },
      },
    },
    "/v1/jobs/{id}/output": {
      get: {
        summary: "The output a job has written so far, as lines (stdout and stderr interleaved); does not wait",
        parameters: [jobIdParam],
        responses: { "200": response("The lines.", ref("Output")), ...jobErrors },
      },
    },
    "/v1/jobs/{id}/output/stream": {
      get: {
        summary: "Follow a job's output until it ends",
        description:
          "text/plain lines by default; Accept: application/x-ndjson gives {\"result\": {\"line\", \"stream\", \"rank\"}} per line, then {\"result\": {\"end\": ...}} or {\"error\": ...}; Accept: text/event-stream gives SSE.",
        parameters: [jobIdParam],
        responses: {
          "200": {
            description: "The output, as it is written.",
            content: {
              "text/plain": { schema: { type: "string" } },
              "application/x-ndjson": { schema: { type: "string" } },
              "text/event-stream": { schema: { type: "string" } },
            },
          },
          ...jobErrors,
        },
      },
    },
    "/v1/nodes": {
      get: {
        summary: "Host names of the nodes that are up",
        responses: {
          "200": response("The nodes.", { type: "object", properties: { nodes: { type: "array", items: { type: "string" } } }, required: ["nodes"] }),
          ...errors,
        },
      },
    },
    "/v1/service/stop": {
      post: {
        summary: "Stop the server (superusers)",
        responses: { "200": response("Stopping.", { nullable: true, type: "object" }), ...errors },
      },
    },
    "/openapi.json": {
      get: { summary: "This document", security: [], responses: { "200": response("OpenAPI 3 document.", { type: "object" }) } },
    },
  },
};
