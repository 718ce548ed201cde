/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in order.
 * Keeps a burst of requests from starting hundreds of `flux` processes on a small node.
 */
export interface Semaphore {
  /** Resolves with a release function once a slot is free. */
  acquire(): Promise<() => void>;
}

export function createSemaphore(limit: number): Semaphore {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    acquire() {
      return new Promise((resolve) => {
        const grant = () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            release();
          });
        };
        if (active < limit) {
          active += 1;
          grant();
        } else {
          waiting.push(grant);
        }
      });
    },
  };
}
