/**
 * The FluxClient: one method per RPC of JobService, AuthService and AdminService, over any
 * Connect transport, with the token dance done for the caller. Environment-free and
 * browser-safe; index.ts and node.ts pick the transport.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { AdminService, type User } from "../../gen/flux/restful/v1/admin_service_pb.js";
import { AuthService, type WhoAmIResponse } from "../../gen/flux/restful/v1/auth_service_pb.js";
import type { Job, JobEvent, Node } from "../../gen/flux/restful/v1/job_pb.js";
import {
  JobService,
  type GetJobOutputResponse,
  type ListJobsRequestSchema,
  type ListJobsResponse,
  type StreamJobOutputResponse,
  type SubmitJobRequestSchema,
} from "../../gen/flux/restful/v1/job_service_pb.js";
import { createAuthTransport } from "./auth-transport.js";
import { createTokenSource } from "./token-source.js";

/** What a job is submitted with: SubmitJobRequest's fields, e.g. `{ command: ["hostname"], numTasks: 2 }`. */
export type SubmitJobInit = MessageInitShape<typeof SubmitJobRequestSchema>;
/** Filters of ListJobs (page_token is managed by `list`). */
export type ListJobsFilter = Omit<MessageInitShape<typeof ListJobsRequestSchema>, "pageToken" | "$typeName">;
/** One item of an output stream: a chunk of output, a status line, or the end. */
export type OutputItem = Exclude<StreamJobOutputResponse["item"], { case: undefined }>;

/** Credentials, all optional: with none, calls are sent anonymously (fine when auth is off). */
export interface FluxCredentials {
  /** The user name (FLUX_USER). */
  user?: string;
  /** The user's password or API token (FLUX_TOKEN). */
  token?: string;
  /** FLUX_SECRET_KEY: when set, credentials are sent as the legacy signed payload. */
  secretKey?: string;
  /** An access token obtained earlier (e.g. kept by a web page), used until refused. */
  accessToken?: string;
}

export interface FluxClient {
  /** The generated clients, over the same authenticating transport, for anything not wrapped here. */
  readonly jobs: Client<typeof JobService>;
  readonly auth: Client<typeof AuthService>;
  readonly admin: Client<typeof AdminService>;

  /**
   * Submits a job and returns its id (F58). Never retried after a timeout or a lost
   * connection: the job may have been created, so the caller decides.
   */
  submit(job: SubmitJobInit, options?: CallOptions): Promise<string>;
  /** One job's record. */
  get(id: string, options?: CallOptions): Promise<Job>;
  /** Pages of jobs matching `filter`, newest first by default, fetched as the iteration goes. */
  list(filter?: ListJobsFilter, options?: CallOptions): AsyncIterable<ListJobsResponse>;
  /** Raises a "cancel" exception on an active job; FailedPrecondition when it is INACTIVE. */
  cancel(id: string, message?: string, options?: CallOptions): Promise<void>;
  /** The output written so far, from `offset`, without waiting for more. */
  output(id: string, range?: { offset?: bigint; limit?: number }, options?: CallOptions): Promise<GetJobOutputResponse>;
  /** Replays the output from `offset` then follows it; the last item is `{ case: "end" }`. */
  streamOutput(id: string, from?: { offset?: bigint }, options?: CallOptions): AsyncIterable<OutputItem>;
  /** Replays the job's eventlog then follows it, ending after "clean". */
  watchEvents(id: string, options?: CallOptions): AsyncIterable<JobEvent>;
  /** The nodes jobs run on. */
  nodes(options?: CallOptions): Promise<Node[]>;
  /** Asks the server to shut down (superusers). */
  stopService(options?: CallOptions): Promise<void>;
  /**
   * Who the credentials belong to, and how the server is configured. With credentials, a token
   * is fetched first; if that fails the answer is the anonymous one (`authenticated: false`).
   */
  whoAmI(options?: CallOptions): Promise<WhoAmIResponse>;
  /** Exchanges the credentials for a token now (otherwise that happens on the first refusal). */
  authenticate(): Promise<string>;
  /** User management (superusers). */
  readonly users: {
    create(name: string, password: string, opts?: { superuser?: boolean }, options?: CallOptions): Promise<User>;
    list(options?: CallOptions): Promise<User[]>;
    delete(name: string, options?: CallOptions): Promise<void>;
    setPassword(name: string, password: string, options?: CallOptions): Promise<void>;
    setActive(name: string, active: boolean, options?: CallOptions): Promise<User>;
  };
}

export interface FluxClientCoreOptions extends FluxCredentials {
  /** Carries every call; the token dance is layered on top of it. */
  transport: Transport;
  /** Deadline of the CreateToken exchange. Defaults to 30000. */
  tokenTimeoutMs?: number;
}

/** Builds a FluxClient over a ready transport. Prefer createFluxClient from index.ts or node.ts. */
export function createFluxClientOverTransport(options: FluxClientCoreOptions): FluxClient {
  const tokens = createTokenSource({
    transport: options.transport,
    user: options.user,
    token: options.token,
    secretKey: options.secretKey,
    accessToken: options.accessToken,
    timeoutMs: options.tokenTimeoutMs,
  });
  const transport = createAuthTransport(options.transport, tokens);
  const jobs = createClient(JobService, transport);
  const auth = createClient(AuthService, transport);
  const admin = createClient(AdminService, transport);

  return {
    jobs,
    auth,
    admin,
    async submit(job, callOptions) {
      return (await jobs.submitJob(job, callOptions)).id;
    },
    async get(id, callOptions) {
      const { job } = await jobs.getJob({ id }, callOptions);
      if (!job) throw new Error(`server returned no record for job "${id}"`);
      return job;
    },
    async *list(filter = {}, callOptions) {
      let pageToken = "";
      do {
        const page = await jobs.listJobs({ ...filter, pageToken }, callOptions);
        yield page;
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
    },
    async cancel(id, message = "", callOptions) {
      await jobs.cancelJob({ id, message }, callOptions);
    },
    output(id, range = {}, callOptions) {
      return jobs.getJobOutput({ id, offset: range.offset ?? 0n, limit: range.limit ?? 0 }, callOptions);
    },
    async *streamOutput(id, from = {}, callOptions) {
      for await (const res of jobs.streamJobOutput({ id, offset: from.offset ?? 0n }, callOptions)) {
        if (res.item.case !== undefined) yield res.item;
      }
    },
    async *watchEvents(id, callOptions) {
      for await (const res of jobs.watchJobEvents({ id }, callOptions)) {
        if (res.event) yield res.event;
      }
    },
    async nodes(callOptions) {
      return (await jobs.listNodes({}, callOptions)).nodes;
    },
    async stopService(callOptions) {
      await admin.stopService({}, callOptions);
    },
    async whoAmI(callOptions) {
      // WhoAmI answers anonymously when no token is sent; a client with credentials asks as itself.
      if (tokens.canRenew && (await tokens.current()) === undefined) {
        await tokens.exchange().catch(() => undefined);
      }
      return auth.whoAmI({}, callOptions);
    },
    authenticate() {
      return tokens.exchange();
    },
    users: {
      async create(name, password, opts = {}, callOptions) {
        const { user } = await admin.createUser({ name, password, superuser: opts.superuser ?? false }, callOptions);
        if (!user) throw new Error(`server returned no record for user "${name}"`);
        return user;
      },
      async list(callOptions) {
        return (await admin.listUsers({}, callOptions)).users;
      },
      async delete(name, callOptions) {
        await admin.deleteUser({ name }, callOptions);
      },
      async setPassword(name, password, callOptions) {
        await admin.setUserPassword({ name, password }, callOptions);
      },
      async setActive(name, active, callOptions) {
        const { user } = await admin.setUserActive({ name, active }, callOptions);
        if (!user) throw new Error(`server returned no record for user "${name}"`);
        return user;
      },
    },
  };
}
