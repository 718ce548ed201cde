/** setTimeout fires at once past 2^31-1 ms (about 24.8 days); time limits may be longer. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Runs fn after ms, however long; returns the function that cancels it. */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  const due = Date.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = due - Date.now();
    timer = left > MAX_TIMEOUT_MS ? setTimeout(arm, MAX_TIMEOUT_MS) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}
