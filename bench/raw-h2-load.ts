/**
 * A lean HTTP/2 load generator for the submit benchmark: pre-encoded request bodies
 * sent on raw node:http2 streams, so the client takes as little of the machine's CPU
 * as it can (the Connect-ES client costs about as much CPU per call as the server).
 * Each "client" is one HTTP/2 connection with one request in flight.
 */
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { SubmitJobRequestSchema } from "../gen/flux/restful/v1/job_service_pb.js";
import { summarizeLoop, type LoopResult } from "./support.js";

export type RawProtocol = "connect" | "grpc";

function requestFor(protocol: RawProtocol, path: string, message: Uint8Array) {
  if (protocol === "connect") {
    return { headers: { ":method": "POST", ":path": path, "content-type": "application/proto" }, body: Buffer.from(message) };
  }
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1); // flag byte 0: not compressed
  framed.set(message, 5);
  return { headers: { ":method": "POST", ":path": path, "content-type": "application/grpc+proto", te: "trailers" }, body: framed };
}

/** Sends one request and resolves when it is answered; rejects on any protocol-level failure. */
function call(session: http2.ClientHttp2Session, protocol: RawProtocol, req: ReturnType<typeof requestFor>): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request(req.headers);
    let status = 0;
    let grpcStatus: string | undefined;
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
    });
    stream.on("trailers", (t) => {
      if (t["grpc-status"] !== undefined) grpcStatus = String(t["grpc-status"]);
    });
    stream.on("data", () => {});
    stream.on("error", reject);
    stream.on("end", () => {
      if (status !== 200) reject(new Error(`HTTP ${status}`));
      else if (protocol === "grpc" && grpcStatus !== "0") reject(new Error(`grpc-status ${grpcStatus}`));
      else resolve();
    });
    stream.end(req.body);
  });
}

/** `clients` connections, one SubmitJob of `command` in flight on each, for `seconds`. */
export async function rawSubmitLoad(
  url: string,
  protocol: RawProtocol,
  clients: number,
  seconds: number,
  command: string[] = ["true"],
): Promise<LoopResult> {
  const message = toBinary(SubmitJobRequestSchema, create(SubmitJobRequestSchema, { command }));
  const req = requestFor(protocol, "/flux.restful.v1.JobService/SubmitJob", message);
  const sessions = await Promise.all(
    Array.from({ length: clients }, () => new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const s = http2.connect(url);
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    })),
  );
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(sessions.map(async (session) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await call(session, protocol, req);
        latencies.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= String(e);
      }
    }
  }));
  const result = summarizeLoop(latencies, errors, started, firstError);
  for (const s of sessions) s.close();
  return result;
}
