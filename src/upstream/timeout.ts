/** Whether a failed fetch was cut off by its timeout (`AbortSignal.timeout`) rather than failing on its own. */
export const timedOut = (err: unknown, signal?: AbortSignal): boolean =>
  signal?.aborted === true || (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"));
