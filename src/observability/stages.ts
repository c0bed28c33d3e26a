/**
 * Where a request's time goes, stage by stage, for the CPU bench (bench/cpu/): it installs a recorder for a pass of
 * its own; otherwise none is installed and `staged` only calls its function (one null check).
 */
export type Stage =
  | "auth"
  | "rate limit"
  | "cache"
  | "reads"
  | "parse and normalize"
  | "assemble"
  | "cursor"
  | "serialize"
  | "log"
  | "metrics"
  | "storage"
  | "other";

/** Told when a stage begins and ends (stages nest; a recorder charges time to the innermost). */
export interface StageRecorder {
  enter(stage: Stage): void;
  exit(stage: Stage): void;
}

let recorder: StageRecorder | null = null;

/** Whether a recorder is installed. */
export const recordingStages = (): boolean => recorder !== null;

/** Installs (or, with null, removes) the recorder every later `staged` call reports to. */
export function recordStages(next: StageRecorder | null): void {
  recorder = next;
}

/**
 * Runs `fn` as `stage`: reported to the recorder when one is installed, the whole promise's life when it returns one.
 * @example const body = staged("serialize", () => JSON.stringify(page))
 */
export function staged<T>(stage: Stage, fn: () => T): T {
  const r = recorder;
  if (r === null) return fn();
  r.enter(stage);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    r.exit(stage);
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => r.exit(stage)) as T;
  r.exit(stage);
  return result;
}
