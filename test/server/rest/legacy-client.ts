/**
 * A replay of the flux-restful-client 0.2.1 Python client's HTTP behaviour
 * (legacy-rest-v1.md sections 2.4 and 4), byte for byte where it matters:
 * - POST fields go in the query string (`params=data`), or as form fields (`data=data`,
 *   an earlier 0.2 revision); values as httpx renders them (True -> "true", None -> "",
 *   a dict -> Python's str());
 * - on a 401 with WWW-Authenticate it drops Authorization, posts the signed payload to
 *   /v1/token, and retries once with `json=data` and no params (its bug: the fields move
 *   to a JSON body, a GET loses its query);
 * - it never handles 403, and gives up when the token request is not 200.
 */
import { legacyPayload, request, type RestResponse } from "./rest-helpers.js";

type Value = string | number | boolean | null | Record<string, string>;
type Data = Record<string, Value>;

export interface LegacyClientOptions {
  host: string;
  user?: string;
  token?: string;
  secretKey?: string;
  /** How POST fields are sent before a 401: query parameters (0.2.1) or form fields. */
  postStyle?: "params" | "form";
}

/** str() of a flat Python dict of strings, as httpx puts it in a query or form. */
function pythonStr(dict: Record<string, string>): string {
  const q = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  return `{${Object.entries(dict).map(([k, v]) => `${q(k)}: ${q(v)}`).join(", ")}}`;
}

function httpxValue(v: Value): string {
  if (v === null) return "";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "object") return pythonStr(v);
  return String(v);
}

function encodeFields(data: Data): URLSearchParams {
  return new URLSearchParams(Object.entries(data).map(([k, v]) => [k, httpxValue(v)]));
}

export class LegacyClient {
  headers: Record<string, string> = {};
  /** Every request made, for assertions on the sequence. */
  readonly log: { method: string; path: string; status: number }[] = [];

  constructor(readonly options: LegacyClientOptions) {}

  setBearerAuth(token: string) {
    this.headers.Authorization = `Bearer ${token}`;
  }

  setBasicAuth(user: string, password: string) {
    this.headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  }

  private async send(method: string, endpoint: string, init: { params?: URLSearchParams; body?: string; contentType?: string; headers?: Record<string, string> }) {
    const qs = init.params && [...init.params].length > 0 ? `?${init.params}` : "";
    const headers = { ...(init.headers ?? this.headers), ...(init.contentType ? { "content-type": init.contentType } : {}) };
    const res = await request(`${this.options.host}/v1/${endpoint}${qs}`, { method, headers, body: init.body });
    this.log.push({ method, path: `/v1/${endpoint}${qs}`, status: res.status });
    return res;
  }

  async doRequest(endpoint: string, method: "GET" | "POST", data?: Data, params?: Data, headers?: Record<string, string>): Promise<RestResponse> {
    let res: RestResponse;
    if (method === "POST") {
      res =
        this.options.postStyle === "form" && data
          ? await this.send("POST", endpoint, { body: encodeFields(data).toString(), contentType: "application/x-www-form-urlencoded", headers })
          : await this.send("POST", endpoint, { params: data ? encodeFields(data) : undefined, headers });
    } else {
      res = await this.send("GET", endpoint, { params: params ? encodeFields(params) : undefined, headers });
    }
    if (res.status !== 401) return res;
    if (!(await this.authenticateRequest(res))) return res;
    // The retry: json=data, no params.
    return data === undefined
      ? this.send(method, endpoint, {})
      : this.send(method, endpoint, { body: JSON.stringify(data), contentType: "application/json" });
  }

  private depth = 0;

  async authenticateRequest(original: RestResponse): Promise<boolean> {
    // The Python client recurses without bound if /v1/token ever answers 401.
    if (++this.depth > 3) throw new Error("token request answered 401: the 0.2 client would recurse");
    try {
      return await this.authenticateOnce(original);
    } finally {
      this.depth--;
    }
  }

  private async authenticateOnce(original: RestResponse): Promise<boolean> {
    delete this.headers.Authorization;
    if (!original.headers.has("www-authenticate")) return false;
    const { user = "", token = "", secretKey } = this.options;
    if (!secretKey) throw new Error("Cannot generate header without secret key");
    const payload = await legacyPayload(user, token, secretKey);
    const res = await this.doRequest("token", "POST", undefined, undefined, { Authorization: `Bearer ${payload}` });
    if (res.status !== 200) return false;
    if (!("access_token" in res.json && "token_type" in res.json)) throw new Error("bad token answer");
    this.setBearerAuth(res.json.access_token);
    return true;
  }

  listNodes() {
    return this.doRequest("nodes", "GET");
  }
  cancel(jobid: string | bigint) {
    return this.doRequest(`jobs/${jobid}/cancel`, "POST");
  }
  output(jobid: string | bigint) {
    return this.doRequest(`jobs/${jobid}/output`, "GET");
  }
  stopService() {
    return this.doRequest("service/stop", "POST");
  }
  jobs(jobid?: string | bigint, detail = false, listing = false) {
    if (jobid !== undefined) return this.doRequest(`jobs/${jobid}`, "GET", undefined, {});
    const params: Data = {};
    if (detail) params.detail = "true";
    if (listing) params.listing = "true";
    return this.doRequest("jobs", "GET", undefined, params);
  }
  search(query?: string, start?: number, length?: number) {
    const params: Data = {};
    if (query) params.query = query;
    if (start !== undefined) params.start = start;
    if (length !== undefined) params.length = length;
    return this.doRequest("jobs/search", "GET", undefined, params);
  }
  submit(command: string | (string | number)[], kwargs: Record<string, Value> = {}) {
    const data: Data = { command: Array.isArray(command) ? command.map(String).join(" ") : command };
    for (const name of ["num_tasks", "cores_per_task", "gpus_per_task", "option_flags", "num_nodes", "exclusive", "is_launcher", "workdir", "envars"]) {
      if (!(name in kwargs)) continue;
      const v = kwargs[name]!;
      data[name] =
        name === "option_flags" && typeof v === "object" && v !== null
          ? Object.entries(v).map(([k, x]) => `${k}=${x}`).join(",")
          : v;
    }
    return this.doRequest("jobs/submit", "POST", data);
  }
}
