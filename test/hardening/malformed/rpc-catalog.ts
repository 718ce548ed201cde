/**
 * Every RPC the server answers, from the generated descriptors, and for each one the
 * well-encoded requests that the service must still refuse (semantic malformations).
 * Every request here must be refused: a SubmitJob or CreateUser that slipped through would
 * create a job or a user, which the test checks for afterwards.
 */
import type { DescMethod, DescService, JsonObject } from "@bufbuild/protobuf";
import { AdminService } from "../../../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService } from "../../../gen/flux/restful/v1/auth_service_pb.js";
import { JobService } from "../../../gen/flux/restful/v1/job_service_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** Connect code names a client may be answered with for a bad request. */
export type ClientCode =
  | "invalid_argument"
  | "out_of_range"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "permission_denied"
  | "unauthenticated"
  | "resource_exhausted";

export const CLIENT_CODES: readonly ClientCode[] = [
  "invalid_argument",
  "out_of_range",
  "not_found",
  "already_exists",
  "failed_precondition",
  "permission_denied",
  "unauthenticated",
  "resource_exhausted",
];

export interface SemanticCase {
  note: string;
  message: JsonObject;
  expect: ClientCode[];
}

export interface RpcTarget {
  service: DescService;
  method: DescMethod;
  /** "/pkg.Service/Method" */
  path: string;
  /** "Service/Method", for reports. */
  name: string;
  semantic: SemanticCase[];
}

export const SERVICES: readonly DescService[] = [JobService, AuthService, AdminService, Health, ReflectionV1, ReflectionV1Alpha];

/** What the semantic cases may refer to: a job that exists (so range checks past the ownership check are reached). */
export interface CatalogContext {
  existingJobId: string;
}

const BAD = ["invalid_argument"] as ClientCode[];
const UNKNOWN = ["not_found"] as ClientCode[];

/** A huge string that still fits the test server's request size limit. */
const HUGE = "h".repeat(100_000);

/** Ids that are not RFC 19 job ids in any encoding, path tricks among them. */
export const MALFORMED_IDS: readonly string[] = [
  "",
  " ",
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "/etc/passwd",
  "f",
  "ƒ",
  "f0OIl",
  "ƒ🙂",
  "🙂",
  "0x",
  "0xZZ",
  "-1",
  "1.5",
  "1e3",
  "18446744073709551616",
  "99999999999999999999999999",
  "job.",
  "job.0000.0000.0000.000g",
  "a-b-c",
  "\u0000",
  "f1\u0000",
  "<script>alert(1)</script>",
  "'; DROP TABLE jobs; --",
  "x".repeat(10_000),
  HUGE,
];

/** Well-formed ids of jobs that do not exist. */
export const UNKNOWN_IDS: readonly string[] = ["ƒ1", "f1", "1", "0x1", "0000.0000.0000.0001", "job.0000.0000.0000.0001", "18446744073709551615"];

function idCases(extra: JsonObject = {}): SemanticCase[] {
  return [
    ...MALFORMED_IDS.map((id) => ({ note: `malformed id ${JSON.stringify(id.slice(0, 24))}`, message: { id, ...extra }, expect: BAD })),
    ...UNKNOWN_IDS.map((id) => ({ note: `unknown id ${id}`, message: { id, ...extra }, expect: UNKNOWN })),
  ];
}

const cmd = { command: ["true"] };

function submitCases(): SemanticCase[] {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, "v"]));
  const list: [string, JsonObject][] = [
    ["no command", {}],
    ["empty command", { command: [] }],
    ["empty program", { command: [""] }],
    ["NUL in program", { command: ["tr\u0000ue"] }],
    ["NUL in argument", { command: ["echo", "a\u0000b"] }],
    ["4097 arguments", { command: Array.from({ length: 4097 }, () => "x") }],
    ["argument of 64 KiB + 1", { command: ["echo", "x".repeat(65_537)] }],
    ["num_tasks 0", { ...cmd, numTasks: 0 }],
    ["num_tasks -1", { ...cmd, numTasks: -1 }],
    ["num_tasks 2^31-1", { ...cmd, numTasks: 2_147_483_647 }],
    ["num_tasks 1000 on this machine", { ...cmd, numTasks: 1000 }],
    ["cores_per_task 0", { ...cmd, coresPerTask: 0 }],
    ["cores_per_task -7", { ...cmd, coresPerTask: -7 }],
    ["gpus_per_task -1", { ...cmd, gpusPerTask: -1 }],
    ["a gpu on a machine with none", { ...cmd, gpusPerTask: 1 }],
    ["num_nodes 0", { ...cmd, numNodes: 0 }],
    ["num_nodes above num_tasks", { ...cmd, numTasks: 1, numNodes: 5 }],
    ["exclusive without num_nodes", { ...cmd, exclusive: true }],
    ["negative time limit", { ...cmd, timeLimitSeconds: -1 }],
    ["NaN time limit", { ...cmd, timeLimitSeconds: "NaN" }],
    ["infinite time limit", { ...cmd, timeLimitSeconds: "Infinity" }],
    ["time limit of 1e300 s", { ...cmd, timeLimitSeconds: 1e300 }],
    ["urgency 32", { ...cmd, urgency: 32 }],
    ["urgency -1", { ...cmd, urgency: -1 }],
    ["relative workdir", { ...cmd, workdir: "relative/dir" }],
    ["workdir escaping upwards", { ...cmd, workdir: "../../etc" }],
    ["NUL in workdir", { ...cmd, workdir: "/tmp/\u0000x" }],
    ["workdir of 5000 characters", { ...cmd, workdir: `/${"a".repeat(5000)}` }],
    ["empty environment name", { ...cmd, environment: { "": "x" } }],
    ["environment name with =", { ...cmd, environment: { "A=B": "x" } }],
    ["environment name starting with a digit", { ...cmd, environment: { "1BAD": "x" } }],
    ["NUL in environment value", { ...cmd, environment: { A: "\u0000" } }],
    ["4097 environment entries", { ...cmd, environment: many(4097) }],
    ["empty shell option name", { ...cmd, shellOptions: { "": "x" } }],
    ["shell option of 64 KiB + 1", { ...cmd, shellOptions: { k: "v".repeat(65_537) } }],
    ["4097 shell options", { ...cmd, shellOptions: many(4097) }],
    ["name of 1025 characters", { ...cmd, name: "n".repeat(1025) }],
    ["NUL in name", { ...cmd, name: "a\u0000" }],
    ["queue of 257 characters", { ...cmd, queue: "q".repeat(257) }],
    ["launcher that is not allowed", { ...cmd, isLauncher: true }],
    ["name of 100,000 characters", { ...cmd, name: HUGE }],
    ["workdir of 100,000 characters", { ...cmd, workdir: `/${HUGE}` }],
    ["argument of 100,000 characters", { command: ["echo", HUGE] }],
    ["environment value of 100,000 characters", { ...cmd, environment: { A: HUGE } }],
    ["10,000 arguments", { command: Array.from({ length: 10_000 }, () => "x") }],
    ["10,000 environment entries", { ...cmd, environment: many(10_000) }],
    ["10,000 shell options", { ...cmd, shellOptions: many(10_000) }],
  ];
  return list.map(([note, message]) => ({ note, message, expect: BAD }));
}

function listCases(): SemanticCase[] {
  const list: [string, JsonObject][] = [
    ["page_size -1", { pageSize: -1 }],
    ["page_size 1001", { pageSize: 1001 }],
    ["page_size 2^31-1", { pageSize: 2_147_483_647 }],
    ["page_size -2^31", { pageSize: -2_147_483_648 }],
    ["junk page token", { pageToken: "garbage" }],
    ["NUL page token", { pageToken: "\u0000" }],
    ["page token of 10,000 characters", { pageToken: "a".repeat(10_000) }],
    ["negative since", { since: -1 }],
    ["NaN since", { since: "NaN" }],
    ["infinite since", { since: "Infinity" }],
    ["-infinite since", { since: "-Infinity" }],
    ["unknown order column", { orderBy: "bogus" }],
    ["unknown order direction", { orderBy: "id sideways" }],
    ["extra order words", { orderBy: "id asc extra" }],
    ["SQL in order_by", { orderBy: "t_submit; DROP TABLE jobs" }],
    ["unknown state bit", { stateMask: 128 }],
    ["all state bits", { stateMask: 4_294_967_295 }],
    ["unknown result bit", { resultMask: 16 }],
    ["all result bits", { resultMask: 255 }],
    ["search of 100,000 characters", { search: HUGE }],
    ["name filter of 100,000 characters", { name: HUGE }],
    ["order_by of 100,000 characters", { orderBy: HUGE }],
    ["page token of 100,000 characters", { pageToken: HUGE }],
  ];
  return list.map(([note, message]) => ({ note, message, expect: BAD }));
}

function semanticCasesFor(method: DescMethod, ctx: CatalogContext): SemanticCase[] {
  const job = ctx.existingJobId;
  switch (`${method.parent.name}/${method.name}`) {
    case "JobService/SubmitJob":
      return submitCases();
    case "JobService/ListJobs":
      return listCases();
    case "JobService/GetJob":
    case "JobService/StreamJobOutput":
    case "JobService/WatchJobEvents":
      return idCases();
    case "JobService/CancelJob":
      return [
        ...idCases(),
        { note: "cancel message of 4097 characters", message: { id: job, message: "m".repeat(4097) }, expect: BAD },
        { note: "cancel message of 100,000 characters", message: { id: job, message: HUGE }, expect: BAD },
      ];
    case "JobService/GetJobOutput":
      return [
        ...idCases(),
        { note: "limit -1", message: { id: job, limit: -1 }, expect: BAD },
        { note: "limit 10001", message: { id: job, limit: 10_001 }, expect: BAD },
      ];
    case "AuthService/CreateToken":
      return [
        { note: "no credentials", message: {}, expect: BAD },
        { note: "empty user name", message: { password: { username: "", password: "x" } }, expect: BAD },
        // Auth is off: refused as unauthenticated, or limited after a burst.
        { note: "unknown user", message: { password: { username: "nobody-here", password: "x" } }, expect: ["unauthenticated", "resource_exhausted", "invalid_argument"] },
        { note: "junk signed payload", message: { signedPayload: "not.a.jwt" }, expect: ["failed_precondition", "unauthenticated", "invalid_argument", "resource_exhausted"] },
        { note: "signed payload of 100,000 characters", message: { signedPayload: HUGE }, expect: ["failed_precondition", "unauthenticated", "invalid_argument", "resource_exhausted"] },
        { note: "user name of 100,000 characters", message: { password: { username: HUGE, password: "x" } }, expect: ["unauthenticated", "resource_exhausted", "invalid_argument"] },
        { note: "password of 100,000 characters", message: { password: { username: "nobody-here", password: HUGE } }, expect: ["unauthenticated", "resource_exhausted", "invalid_argument"] },
      ];
    case "AdminService/CreateUser":
      return [
        { note: "empty name", message: { name: "", password: "pw" }, expect: BAD },
        { note: "path in name", message: { name: "../x", password: "pw" }, expect: BAD },
        { note: "name of 33 characters", message: { name: "a".repeat(33), password: "pw" }, expect: BAD },
        { note: "NUL in name", message: { name: "root\u0000", password: "pw" }, expect: BAD },
        { note: "empty password", message: { name: "valid_name", password: "" }, expect: BAD },
        { note: "password of 1025 characters", message: { name: "valid_name", password: "p".repeat(1025) }, expect: BAD },
        { note: "name of 100,000 characters", message: { name: HUGE, password: "pw" }, expect: BAD },
        { note: "password of 100,000 characters", message: { name: "valid_name", password: HUGE }, expect: BAD },
      ];
    case "AdminService/DeleteUser":
      return [
        { note: "empty name", message: { name: "" }, expect: ["not_found", "invalid_argument"] },
        { note: "unknown user", message: { name: "nobody-here" }, expect: ["not_found"] },
        { note: "path in name", message: { name: "../../etc/passwd" }, expect: ["not_found", "invalid_argument"] },
        { note: "name of 100,000 characters", message: { name: HUGE }, expect: ["not_found", "invalid_argument"] },
      ];
    case "AdminService/SetUserPassword":
      return [
        { note: "unknown user", message: { name: "nobody-here", password: "pw" }, expect: ["not_found"] },
        { note: "empty password", message: { name: "nobody-here", password: "" }, expect: ["not_found", "invalid_argument"] },
      ];
    case "AdminService/SetUserActive":
      return [
        { note: "unknown user", message: { name: "nobody-here", active: true }, expect: ["not_found"] },
        { note: "name of 100,000 characters", message: { name: HUGE, active: false }, expect: ["not_found", "invalid_argument"] },
      ];
    case "Health/Check":
      return [
        { note: "unknown service", message: { service: "no.Such" }, expect: UNKNOWN },
        { note: "service name of 100,000 characters", message: { service: HUGE }, expect: UNKNOWN },
      ];
    default:
      // ListNodes, WhoAmI, ListUsers, StopService, Health/Watch (an unknown service is watched
      // until the client leaves, by the health protocol) and reflection: every well-encoded
      // request is valid, so only encoding-level malformations apply.
      return [];
  }
}

export function rpcTargets(ctx: CatalogContext): RpcTarget[] {
  return SERVICES.flatMap((service) =>
    service.methods.map((method) => ({
      service,
      method,
      path: `/${service.typeName}/${method.name}`,
      name: `${service.typeName}/${method.name}`,
      semantic: semanticCasesFor(method, ctx),
    })),
  );
}
