/**
 * Turns the socket's byte stream into frame bodies. Reads arrive split anywhere (inside
 * the header, inside a part) and coalesced (many frames in one read); this keeps the
 * pieces and hands out each body once all of its bytes are in, copying only when a
 * body spans reads.
 */
import { FRAME_HEADER_SIZE } from "./wire-constants.js";
import { FluxProtocolError, magicOf } from "./message-codec.js";

export interface FrameDecoderOptions {
  /** Largest body accepted; a bigger length is treated as a corrupt stream. Defaults to 256 MiB. */
  maxFrameBytes?: number;
}

export interface FrameDecoder {
  /** Adds bytes; returns every body completed by them, in order. Throws FluxProtocolError on a bad header. */
  push(chunk: Buffer): Buffer[];
  /** The magic byte order the peer used last ("host" until a frame says otherwise). */
  readonly peerMagic: "host" | "rfc";
  /** Bytes held for an incomplete frame. */
  readonly bufferedBytes: number;
}

export function createFrameDecoder(options: FrameDecoderOptions = {}): FrameDecoder {
  const maxFrameBytes = options.maxFrameBytes ?? 256 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let buffered = 0;
  let need: number | undefined; // body length of the frame being read, once its header is in
  let peerMagic: "host" | "rfc" = "host";

  /** Removes and returns the first n buffered bytes. */
  const take = (n: number): Buffer => {
    buffered -= n;
    const first = chunks[0]!;
    if (first.length > n) {
      chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = chunks[0]!;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) chunks.shift();
      else chunks[0] = c.subarray(k);
    }
    return out;
  };

  return {
    get peerMagic() {
      return peerMagic;
    },
    get bufferedBytes() {
      return buffered;
    },
    push(chunk) {
      if (chunk.length > 0) {
        chunks.push(chunk);
        buffered += chunk.length;
      }
      const bodies: Buffer[] = [];
      for (;;) {
        if (need === undefined) {
          if (buffered < FRAME_HEADER_SIZE) break;
          const header = take(FRAME_HEADER_SIZE);
          const magic = magicOf(header);
          if (magic === undefined) throw new FluxProtocolError(`bad frame magic ${header.subarray(0, 4).toString("hex")}`);
          peerMagic = magic;
          need = header.readUInt32BE(4);
          if (need > maxFrameBytes) throw new FluxProtocolError(`frame of ${need} bytes exceeds the ${maxFrameBytes}-byte limit`);
        }
        if (buffered < need) break;
        bodies.push(need === 0 ? Buffer.alloc(0) : take(need));
        need = undefined;
      }
      return bodies;
    },
  };
}
