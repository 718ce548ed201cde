/**
 * FLUID generator (RFC 19; flux-core src/common/libutil/fluid.c): an id is
 * [ timestamp:40 | generator id:14 | sequence:10 ], the timestamp counting ms since an epoch.
 */

const SEQ_BITS = 10n;
const GEN_BITS = 14n;
const TS_SHIFT = SEQ_BITS + GEN_BITS;
const SEQ_MAX = (1n << SEQ_BITS) - 1n;
const GEN_MAX = (1 << Number(GEN_BITS)) - 1;
const TS_MAX = (1n << 40n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Issues FLUIDs; see {@link createFluidGenerator}. */
export interface FluidGenerator {
  /** Returns a new id, strictly greater than every id this generator (or `lastId`) gave before. */
  next(): bigint;
}

export interface FluidGeneratorOptions {
  /** Wall-clock ms (as from Date.now()) the timestamp field counts from, e.g. the instance start. */
  epochMs: number;
  /** The 14-bit generator id (0..16383) that keeps concurrent generators apart. Defaults to 0. */
  generatorId?: number;
  /** The largest id issued before a restart; every new id is greater. */
  lastId?: bigint;
  /** Clock in ms. Defaults to Date.now. */
  now?: () => number;
}

/**
 * Creates a FLUID generator. Ids strictly increase even when the clock goes backwards or more
 * than 1024 ids are asked for within one ms: then the timestamp field runs ahead of the clock
 * (flux-core busy-waits instead; an id a little in the future is harmless, a repeated one is not).
 *
 * ```ts
 * const ids = createFluidGenerator({ epochMs: startedAtMs, lastId: store.maxJobId() });
 * const id = ids.next();
 * ```
 *
 * Throws RangeError for invalid options, and from next() once the 40-bit timestamp (about
 * 34.8 years after the epoch) is used up.
 */
export function createFluidGenerator(options: FluidGeneratorOptions): FluidGenerator {
  const { epochMs, generatorId = 0, lastId, now = Date.now } = options;
  if (!Number.isFinite(epochMs)) throw new RangeError(`invalid fluid epoch "${epochMs}"`);
  if (!Number.isInteger(generatorId) || generatorId < 0 || generatorId > GEN_MAX) {
    throw new RangeError(`invalid fluid generator id "${generatorId}": must be an integer from 0 to ${GEN_MAX}`);
  }
  if (lastId !== undefined && (lastId < 0n || lastId > UINT64_MAX)) {
    throw new RangeError(`invalid last fluid "${lastId}": must be an unsigned 64-bit integer`);
  }
  const gen = BigInt(generatorId);
  let last = lastId;

  const compose = (ts: bigint, seq: bigint): bigint => {
    if (ts > TS_MAX) throw new RangeError("fluid timestamp exhausted: more than 2^40 ms since the epoch");
    return (ts << TS_SHIFT) | (gen << SEQ_BITS) | seq;
  };

  // The smallest id with this generator id that is greater than `prev`.
  const successor = (prev: bigint): bigint => {
    const ts = prev >> TS_SHIFT;
    const prevGen = (prev >> SEQ_BITS) & BigInt(GEN_MAX);
    const seq = prev & SEQ_MAX;
    if (prevGen < gen) return compose(ts, 0n);
    if (prevGen === gen && seq < SEQ_MAX) return compose(ts, seq + 1n);
    return compose(ts + 1n, 0n);
  };

  return {
    next() {
      const clockMs = now();
      if (!Number.isFinite(clockMs)) throw new RangeError(`clock returned an invalid time "${clockMs}"`);
      // Before the epoch counts as the epoch; the ordering below still holds.
      const ts = BigInt(Math.max(0, Math.floor(clockMs - epochMs)));
      const fromClock = compose(ts, 0n);
      const id = last === undefined || fromClock > last ? fromClock : successor(last);
      last = id;
      return id;
    },
  };
}
