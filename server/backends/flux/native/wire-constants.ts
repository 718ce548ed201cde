/**
 * Numbers of the broker's wire protocol (flux-core src/common/libflux/message.h,
 * message_proto.h, librouter/sendfd.c) and the errno values its services answer with.
 * See docs/flux-native-transport.md and ../shared/reference/flux-wire.md.
 */

/** Message types (PROTO byte 2). */
export const MsgType = {
  REQUEST: 0x01,
  RESPONSE: 0x02,
  EVENT: 0x04,
  CONTROL: 0x08,
} as const;

/** Message flags (PROTO byte 3). */
export const MsgFlag = {
  TOPIC: 0x01,
  PAYLOAD: 0x02,
  NORESPONSE: 0x04,
  ROUTE: 0x08,
  UPSTREAM: 0x10,
  PRIVATE: 0x20,
  STREAMING: 0x40,
  USER1: 0x80,
} as const;

export const PROTO_MAGIC = 0x8e;
export const PROTO_VERSION = 0x01;
export const PROTO_SIZE = 20;

/** Bytes before every message: 4 magic + 4 big-endian length of what follows. */
export const FRAME_HEADER_SIZE = 8;

/**
 * sendfd.c stores the 32-bit constant 0xffee0012 in host byte order, so on the x86 and
 * arm64 hosts Flux runs on the bytes are 12 00 EE FF, not RFC 3's FF EE 00 12 (which the
 * 0.88 broker refuses). flux-core issue #7415 plans to accept both; we accept both on receive.
 */
export const MAGIC_HOST_ORDER = Buffer.from([0x12, 0x00, 0xee, 0xff]);
export const MAGIC_RFC_ORDER = Buffer.from([0xff, 0xee, 0x00, 0x12]);

export const NODEID_ANY = 0xffffffff;
export const USERID_UNKNOWN = 0xffffffff;
export const MATCHTAG_NONE = 0;

/** Roles (PROTO rolemask). */
export const Role = {
  NONE: 0,
  OWNER: 1,
  USER: 2,
  LOCAL: 4,
  ADMIN: 8,
} as const;

/** Linux errno values the broker puts in responses (and the handshake byte). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EAGAIN: 11,
  EACCES: 13,
  EEXIST: 17,
  EINVAL: 22,
  ENOSYS: 38,
  ENODATA: 61,
  EPROTO: 71,
  ECONNRESET: 104,
  ETIMEDOUT: 110,
  EHOSTUNREACH: 113,
} as const;

const ERRNO_NAMES = new Map<number, string>(Object.entries(Errno).map(([name, n]) => [n, name]));

/** "ENOENT" for 2, "errno 999" for what we do not name. */
export function errnoName(errnum: number): string {
  return ERRNO_NAMES.get(errnum) ?? `errno ${errnum}`;
}

/** RFC 21 state bits, as job-list constraints use them. */
export const JobStateMask = {
  PENDING: 14,
  RUNNING: 48,
  ACTIVE: 62,
  INACTIVE: 64,
} as const;

/** job-info.eventlog-watch flags (libjob/job.h). */
export const EventWatchFlag = {
  WAITCREATE: 1,
  INITIAL_SENTINEL: 2,
} as const;

/** job-info.lookup flags (libjob/job.h). */
export const LookupFlag = {
  JSON_DECODE: 1,
  CURRENT: 2,
} as const;
