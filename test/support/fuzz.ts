import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";

/**
 * Seeds of every fuzzer. One base seed per run: `FUZZ_SEED` (an integer, or `random` for a fresh one), else a fixed
 * default, so CI is reproducible. Each property derives its own seed from the base and its id. A failure prints the
 * exact replay: `FUZZ_SEED=<base> FUZZ_PATH=<id>:<path>`, where the path (fast-check's) replays only that property's
 * failing case. vitest.config.ts hands both variables to the workers runtime as the `TEST_FUZZ` binding.
 */
const DEFAULT_SEED = 20_261_122;

const given = (env as unknown as { TEST_FUZZ?: { seed: string | null; path: string | null } }).TEST_FUZZ;

function baseSeed(raw: string | null | undefined): number {
  if (raw === null || raw === undefined || raw.trim() === "") return DEFAULT_SEED;
  if (raw.trim() === "random") return (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${raw}`);
  return seed | 0;
}

export const FUZZ_SEED = baseSeed(given?.seed);

/** A property's own seed: the base mixed with a stable hash of its id. */
function seedOf(id: string): number {
  let h = FUZZ_SEED | 0;
  for (const ch of id) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) | 0;
  return h;
}

/** `FUZZ_PATH=<id>:<path>` replays one property's case; other properties run as usual. */
function pathFor(id: string): string | undefined {
  const raw = given?.path ?? "";
  const at = raw.indexOf(":");
  return at > 0 && raw.slice(0, at) === id ? raw.slice(at + 1) : undefined;
}

/** Runs of each property in this file, for the summary line. */
export const fuzzRuns: Record<string, number> = {};

/**
 * Checks an async property with a derived, printed seed. Shrinking is skipped (`endOnFailure`): every run calls a
 * live app, and the path replays the very case that failed.
 */
export async function fuzz<Ts>(id: string, property: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void> {
  const path = pathFor(id);
  const details = await fc.check(property, {
    numRuns,
    seed: seedOf(id),
    endOnFailure: true,
    ...(path ? { path } : {}),
  });
  fuzzRuns[id] = details.numRuns;
  console.log(`[fuzz] ${id}: ${details.numRuns} runs, FUZZ_SEED=${FUZZ_SEED}${path ? ` FUZZ_PATH=${id}:${path}` : ""}`);
  if (details.failed) {
    const replay = `FUZZ_SEED=${FUZZ_SEED} FUZZ_PATH='${id}:${details.counterexamplePath}'`;
    expect.fail(`[fuzz] ${id} failed; replay with ${replay}\n${fc.defaultReportMessage(details)}`);
  }
}
