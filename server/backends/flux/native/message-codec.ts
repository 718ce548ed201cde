/**
 * One Flux message to and from bytes, as flux-core's sendfd.c and message.c do it:
 *
 *   magic(4) | length(4, big-endian, bytes after these 8) | part | part | ... | PROTO part
 *
 * Each part is a size prefix (1 byte for 0-254, else 0xFF and 4 big-endian bytes) and
 * its bytes. Parts in order: route ids and an empty delimiter (ROUTE flag), the topic
 * (TOPIC, no NUL), the payload (PAYLOAD), then the 20-byte PROTO part, always last.
 * RFC 3 says the length counts the 8 header bytes and the magic is FF EE 00 12; the
 * code (and the broker) disagree on both, and the code wins.
 */
import {
  FRAME_HEADER_SIZE,
  MAGIC_HOST_ORDER,
  MAGIC_RFC_ORDER,
  MsgFlag,
  MsgType,
  PROTO_MAGIC,
  PROTO_SIZE,
  PROTO_VERSION,
} from "./wire-constants.js";

/** A decoded message. `aux1` is the nodeid (request), errnum (response) or sequence (event). */
export interface FluxMessage {
  type: number;
  /** Every flag as carried; TOPIC, PAYLOAD and ROUTE agree with the fields below. */
  flags: number;
  userid: number;
  rolemask: number;
  aux1: number;
  /** The matchtag of requests and responses. */
  aux2: number;
  /** Route ids, nearest first; undefined when the ROUTE flag is clear. */
  routes?: Buffer[];
  topic?: string;
  payload?: Buffer;
}

/** A frame or part that does not follow the protocol (the broker would drop the connection). */
export class FluxProtocolError extends Error {
  override name = "FluxProtocolError" as const;
}

export interface EncodeOptions {
  /** The magic to send. Defaults to the host-order bytes the broker expects. */
  magic?: Buffer;
  /** Use the 5-byte size prefix for every part, even short ones (legal; for tests). */
  longSizes?: boolean;
}

const VALID_TYPES = new Set<number>(Object.values(MsgType));
const PRESENCE = MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE;

function sizePrefixLength(size: number, long: boolean): number {
  return size < 0xff && !long ? 1 : 5;
}

/** The whole frame (header included) for a message; flags TOPIC/PAYLOAD/ROUTE follow the fields. */
export function encodeMessage(msg: FluxMessage, options: EncodeOptions = {}): Buffer {
  const long = options.longSizes === true;
  const parts: Buffer[] = [];
  if (msg.routes !== undefined) {
    parts.push(...msg.routes, Buffer.alloc(0));
  }
  if (msg.topic !== undefined) parts.push(Buffer.from(msg.topic, "utf8"));
  if (msg.payload !== undefined) parts.push(msg.payload);
  const flags =
    (msg.flags & ~PRESENCE) |
    (msg.topic !== undefined ? MsgFlag.TOPIC : 0) |
    (msg.payload !== undefined ? MsgFlag.PAYLOAD : 0) |
    (msg.routes !== undefined ? MsgFlag.ROUTE : 0);
  const proto = Buffer.alloc(PROTO_SIZE);
  proto[0] = PROTO_MAGIC;
  proto[1] = PROTO_VERSION;
  proto[2] = msg.type;
  proto[3] = flags;
  proto.writeUInt32BE(msg.userid >>> 0, 4);
  proto.writeUInt32BE(msg.rolemask >>> 0, 8);
  proto.writeUInt32BE(msg.aux1 >>> 0, 12);
  proto.writeUInt32BE(msg.aux2 >>> 0, 16);
  parts.push(proto);

  let bodySize = 0;
  for (const p of parts) bodySize += sizePrefixLength(p.length, long) + p.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + bodySize);
  (options.magic ?? MAGIC_HOST_ORDER).copy(frame, 0);
  frame.writeUInt32BE(bodySize, 4);
  let at = FRAME_HEADER_SIZE;
  for (const p of parts) {
    if (p.length < 0xff && !long) {
      frame[at] = p.length;
      at += 1;
    } else {
      frame[at] = 0xff;
      frame.writeUInt32BE(p.length, at + 1);
      at += 5;
    }
    p.copy(frame, at);
    at += p.length;
  }
  return frame;
}

/** Splits a frame body into its parts (views into `body`, not copies). */
function splitParts(body: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    let size = body[at]!;
    at += 1;
    if (size === 0xff) {
      if (body.length - at < 4) throw new FluxProtocolError("truncated part size");
      size = body.readUInt32BE(at);
      at += 4;
    }
    if (body.length - at < size) throw new FluxProtocolError(`part of ${size} bytes overruns the message`);
    parts.push(body.subarray(at, at + size));
    at += size;
  }
  return parts;
}

/** Decodes a frame body (the bytes after the 8-byte header). */
export function decodeMessageBody(body: Buffer): FluxMessage {
  const parts = splitParts(body);
  const proto = parts.pop();
  if (proto === undefined) throw new FluxProtocolError("message has no parts");
  if (proto.length !== PROTO_SIZE) throw new FluxProtocolError(`PROTO part is ${proto.length} bytes, not ${PROTO_SIZE}`);
  if (proto[0] !== PROTO_MAGIC) throw new FluxProtocolError(`bad PROTO magic 0x${proto[0]!.toString(16)}`);
  if (proto[1] !== PROTO_VERSION) throw new FluxProtocolError(`unsupported PROTO version ${proto[1]}`);
  const type = proto[2]!;
  if (!VALID_TYPES.has(type)) throw new FluxProtocolError(`unknown message type ${type}`);
  const flags = proto[3]!;
  const msg: FluxMessage = {
    type,
    flags,
    userid: proto.readUInt32BE(4),
    rolemask: proto.readUInt32BE(8),
    aux1: proto.readUInt32BE(12),
    aux2: proto.readUInt32BE(16),
  };
  let index = 0;
  if (flags & MsgFlag.ROUTE) {
    const routes: Buffer[] = [];
    while (index < parts.length && parts[index]!.length > 0) routes.push(parts[index++]!);
    if (index === parts.length) throw new FluxProtocolError("route stack has no delimiter");
    index += 1;
    msg.routes = routes;
  }
  if (flags & MsgFlag.TOPIC) {
    const topic = parts[index++];
    if (topic === undefined) throw new FluxProtocolError("TOPIC flag set but no topic part");
    msg.topic = topic.toString("utf8");
  }
  if (flags & MsgFlag.PAYLOAD) {
    const payload = parts[index++];
    if (payload === undefined) throw new FluxProtocolError("PAYLOAD flag set but no payload part");
    msg.payload = payload;
  }
  // Like iovec_to_msg, parts beyond those the flags announce are ignored.
  return msg;
}

/** Which byte order a header's magic is in, or undefined when it is not the Flux magic. */
export function magicOf(header: Buffer): "host" | "rfc" | undefined {
  if (header.subarray(0, 4).equals(MAGIC_HOST_ORDER)) return "host";
  if (header.subarray(0, 4).equals(MAGIC_RFC_ORDER)) return "rfc";
  return undefined;
}
