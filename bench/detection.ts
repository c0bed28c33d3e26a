// 5. Change detection's upstream calls per cron tick: runs bench/detection/detection.bench-test.ts with
// bench/vitest.detection.config.ts (the tests' workerd pool, never part of `npm test`) and reads the figures it posts
// back. Deterministic counts, no timing.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runToEnd } from "../scripts/proc";
import type { DetectionFigures } from "./detection/figures";
import { ROOT } from "./lib/stack";

export type { DetectionFigures };

export interface DetectionResult extends DetectionFigures {
  wallMs: number;
}

/** The vitest run's own bound; the bench inside stops itself after 100 s (BUDGET_MS there). */
const TIMEOUT_MS = 120_000;

export async function runDetection(dir: string): Promise<DetectionResult> {
  const out = join(dir, "detection.json");
  rmSync(out, { force: true });
  const run = await runToEnd(
    join(ROOT, "node_modules/.bin/vitest"),
    ["run", "--config", "bench/vitest.detection.config.ts", "--reporter=dot"],
    { cwd: ROOT, env: { ...process.env, BENCH_DETECTION_OUT: out, NO_COLOR: "1" }, timeoutMs: TIMEOUT_MS },
  );
  if (run.code !== 0 || !existsSync(out)) {
    throw new Error(`the detection bench failed (${run.code}):\n${(run.stdout + run.stderr).slice(-3000)}`);
  }
  return { ...(JSON.parse(readFileSync(out, "utf8")) as DetectionFigures), wallMs: Math.round(run.ms) };
}
