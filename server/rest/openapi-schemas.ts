/**
 * The component schemas of the OpenAPI document: the 0.2 response and request shapes.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Referenced as #/components/schemas/<name>. */
export const OPENAPI_SCHEMAS = {
  Message: { type: "object", properties: { Message: { type: "string" } }, required: ["Message"] },
  InvalidRequest: {
    type: "object",
    properties: { Message: { type: "string" }, Errors: { type: "array", items: { type: "string" } } },
    required: ["Message", "Errors"],
  },
  Token: {
    type: "object",
    properties: { access_token: { type: "string" }, token_type: { type: "string", enum: ["Bearer"] } },
    required: ["access_token", "token_type"],
  },
  Denied: {
    type: "object",
    properties: { Message: { type: "string", enum: ["Denied"] }, detail: { type: "string" }, Errors: { type: "array", items: { type: "string" } } },
  },
  JobIdMessage: {
    type: "object",
    properties: { Message: { type: "string" }, id: { type: "integer", format: "int64", description: "Decimal job id, an exact integer (may exceed 2^53)." } },
    required: ["Message", "id"],
  },
  SubmitFields: {
    type: "object",
    description: "The submit fields as a JSON body (0.1, and the 0.2 client's retry after a 401). A body without command is the environment map.",
    properties: {
      command: { oneOf: [{ type: "string" }, { type: "array", items: { oneOf: [{ type: "string" }, { type: "number" }] } }] },
      num_tasks: { type: "integer" },
      cores_per_task: { type: "integer" },
      gpus_per_task: { type: "integer" },
      num_nodes: { type: "integer" },
      exclusive: { type: "boolean" },
      option_flags: { oneOf: [{ type: "string" }, { type: "object", additionalProperties: { type: "string" } }] },
      workdir: { type: "string" },
      runtime: { type: "number" },
      is_launcher: { type: "boolean" },
      envars: { type: "object", additionalProperties: { type: "string" } },
    },
    additionalProperties: false,
  },
  JobException: {
    type: "object",
    properties: {
      occurred: { type: "boolean" },
      severity: { oneOf: [{ type: "integer" }, { type: "string", enum: [""] }] },
      type: { type: "string" },
      note: { type: "string" },
    },
  },
  Job: {
    type: "object",
    description: "flux-core job-list fields with 0.2's overrides; timestamps are epoch seconds, present once reached.",
    properties: {
      id: { type: "integer", format: "int64" },
      userid: { type: "integer" },
      urgency: { type: "integer" },
      priority: { type: "integer" },
      t_submit: { type: "number" },
      t_depend: { type: "number" },
      t_priority: { type: "number" },
      t_sched: { type: "number" },
      t_run: { type: "number" },
      t_cleanup: { type: "number" },
      t_inactive: { type: "number" },
      state: { type: "string", enum: ["NEW", "DEPEND", "PRIORITY", "SCHED", "RUN", "CLEANUP", "INACTIVE"] },
      name: { type: "string" },
      cwd: { type: "string" },
      queue: { type: "string" },
      ntasks: { type: "integer" },
      ncores: { type: "integer" },
      duration: { type: "number" },
      nnodes: { type: "integer" },
      ranks: { type: "string" },
      nodelist: { type: "string" },
      success: { type: "boolean", description: "Present once INACTIVE." },
      exception_occurred: { type: "boolean" },
      exception_severity: { type: "integer" },
      exception_type: { type: "string" },
      exception_note: { type: "string" },
      result: { type: "string", enum: ["", "COMPLETED", "FAILED", "CANCELED", "TIMEOUT"] },
      expiration: { type: "number" },
      waitstatus: { oneOf: [{ type: "integer" }, { type: "string", enum: [""] }] },
      returncode: { oneOf: [{ type: "integer" }, { type: "string", enum: [""] }] },
      runtime: { type: "number" },
      exception: ref("JobException"),
      owner: { type: "string" },
      ngpus: { type: "integer" },
    },
    required: ["id", "state", "result", "returncode", "runtime", "exception"],
  },
  Output: {
    type: "object",
    properties: { Output: { type: "array", items: { type: "string" } }, Message: { type: "string", description: "Present when there is no output yet." } },
    required: ["Output"],
  },
  Search: {
    type: "object",
    properties: {
      data: { type: "array", items: ref("Job") },
      draw: { type: "integer" },
      recordsTotal: { type: "integer" },
      recordsFiltered: { type: "integer" },
    },
    required: ["data", "draw", "recordsTotal", "recordsFiltered"],
  },
};
