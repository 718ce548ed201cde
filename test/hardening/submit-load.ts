/**
 * Clients that submit continuously and remember exactly what the server acknowledged, for
 * the crash and shutdown tests. Each submission carries a unique token (its job name and
 * what it prints), so afterwards every job can be matched to the one request that made it.
 */
import { ConnectError, createClient, type Client, type Code } from "@connectrpc/connect";
import { JobService } from "../../gen/flux/restful/v1/job_service_pb.js";
import { createTransports, type TransportName } from "../support/transports.js";

export interface Submission {
  token: string;
  /** Set once the server acknowledged it. */
  id?: string;
  /** The call failed (the server went away mid-call): it may or may not exist. */
  failed?: string;
  failedCode?: Code;
}

export interface SubmitLoad {
  readonly submissions: Submission[];
  /** Stops submitting and waits for the calls in flight to settle. */
  stop(): Promise<void>;
}

const TRANSPORTS: TransportName[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];

/** A job that prints its token, runs a little, and prints "done". */
export function tokenJob(token: string): { command: string[]; name: string } {
  return { command: ["sh", "-c", `echo ${token}; sleep 0.2; echo done`], name: token };
}

/**
 * Starts `clients` loops submitting token jobs to url, each over its own transport (the
 * four protocols in turn). A failed call is recorded and the loop keeps trying after a pause,
 * so it resumes by itself once a restarted server listens again.
 */
export function startSubmitLoad(url: string, clients: number, prefix: string): SubmitLoad {
  const submissions: Submission[] = [];
  let running = true;
  let seq = 0;
  const loops = Array.from({ length: clients }, async (_, i) => {
    const client: Client<typeof JobService> = createClient(JobService, createTransports(url)[TRANSPORTS[i % TRANSPORTS.length]!]);
    while (running) {
      const submission: Submission = { token: `${prefix}-${i}-${seq++}` };
      submissions.push(submission);
      try {
        submission.id = (await client.submitJob(tokenJob(submission.token), { timeoutMs: 20_000 })).id;
      } catch (e) {
        const err = ConnectError.from(e);
        submission.failed = err.rawMessage;
        submission.failedCode = err.code;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    submissions,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
