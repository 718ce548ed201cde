/**
 * The fake broker's own frame reader and writer. Written apart from the transport's codec
 * (server/backends/flux/native/) on purpose, from flux-core's sendfd.c and message.c, so a
 * mistake in one is not mirrored in the other; the golden frames in the codec tests tie
 * both to bytes the real broker sent (../shared/reference/flux-wire.md).
 */

export interface WireMessage {
  type: number;
  flags: number;
  userid: number;
  rolemask: number;
  aux1: number;
  aux2: number;
  routes: Buffer[] | undefined;
  topic: string | undefined;
  payload: Buffer | undefined;
}

export const HOST_MAGIC = Buffer.from("1200eeff", "hex");
export const RFC_MAGIC = Buffer.from("ffee0012", "hex");

/** Reads frames out of a byte stream; `onFrame` gets each message, `onError` a malformed stream. */
export function createWireReader(onFrame: (msg: WireMessage, magic: "host" | "rfc") => void, onError: (why: string) => void) {
  let buf = Buffer.alloc(0);
  let failed = false;
  return (chunk: Buffer) => {
    if (failed) return;
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const magic = buf.subarray(0, 4).equals(HOST_MAGIC) ? "host" : buf.subarray(0, 4).equals(RFC_MAGIC) ? "rfc" : undefined;
      if (!magic) {
        failed = true;
        onError(`bad magic ${buf.subarray(0, 4).toString("hex")}`);
        return;
      }
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) return;
      const body = buf.subarray(8, 8 + len);
      buf = buf.subarray(8 + len);
      const parsed = parseBody(body);
      if (typeof parsed === "string") {
        failed = true;
        onError(parsed);
        return;
      }
      onFrame(parsed, magic);
    }
  };
}

function parseBody(body: Buffer): WireMessage | string {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    let n = body[i]!;
    i += 1;
    if (n === 255) {
      if (i + 4 > body.length) return "short 4-byte size";
      n = body.readUInt32BE(i);
      i += 4;
    }
    if (i + n > body.length) return "part overruns body";
    parts.push(body.subarray(i, i + n));
    i += n;
  }
  const proto = parts.pop();
  if (!proto || proto.length !== 20 || proto[0] !== 0x8e || proto[1] !== 1) return "bad PROTO part";
  const flags = proto[3]!;
  let k = 0;
  let routes: Buffer[] | undefined;
  if (flags & 0x08) {
    routes = [];
    while (k < parts.length && parts[k]!.length > 0) routes.push(parts[k++]!);
    if (k >= parts.length) return "no route delimiter";
    k++;
  }
  let topic: string | undefined;
  if (flags & 0x01) {
    if (k >= parts.length) return "no topic part";
    topic = parts[k++]!.toString("utf8");
  }
  let payload: Buffer | undefined;
  if (flags & 0x02) {
    if (k >= parts.length) return "no payload part";
    payload = Buffer.from(parts[k++]!);
  }
  return {
    type: proto[2]!,
    flags,
    userid: proto.readUInt32BE(4),
    rolemask: proto.readUInt32BE(8),
    aux1: proto.readUInt32BE(12),
    aux2: proto.readUInt32BE(16),
    routes,
    topic,
    payload,
  };
}

export interface WriteFrameOptions {
  magic?: "host" | "rfc";
  /** 0xFF + 4-byte sizes for every part, as a sender may. */
  longSizes?: boolean;
}

/** A whole frame for a message (flags are written as given). */
export function writeFrame(msg: WireMessage, options: WriteFrameOptions = {}): Buffer {
  const parts: Buffer[] = [];
  if (msg.routes) parts.push(...msg.routes, Buffer.alloc(0));
  if (msg.topic !== undefined) parts.push(Buffer.from(msg.topic, "utf8"));
  if (msg.payload !== undefined) parts.push(msg.payload);
  const proto = Buffer.alloc(20);
  proto.writeUInt8(0x8e, 0);
  proto.writeUInt8(1, 1);
  proto.writeUInt8(msg.type, 2);
  proto.writeUInt8(msg.flags, 3);
  proto.writeUInt32BE(msg.userid >>> 0, 4);
  proto.writeUInt32BE(msg.rolemask >>> 0, 8);
  proto.writeUInt32BE(msg.aux1 >>> 0, 12);
  proto.writeUInt32BE(msg.aux2 >>> 0, 16);
  parts.push(proto);
  const pieces: Buffer[] = [];
  for (const p of parts) {
    if (p.length < 255 && !options.longSizes) pieces.push(Buffer.from([p.length]));
    else {
      const s = Buffer.alloc(5);
      s[0] = 255;
      s.writeUInt32BE(p.length, 1);
      pieces.push(s);
    }
    pieces.push(p);
  }
  const body = Buffer.concat(pieces);
  const head = Buffer.alloc(8);
  (options.magic === "rfc" ? RFC_MAGIC : HOST_MAGIC).copy(head, 0);
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}
