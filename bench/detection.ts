// 5. Change detection's upstream calls per cron tick: runs bench/detection/detection.bench-test.ts with
// bench/vitest.detection.config.ts (the tests' workerd pool, never part of `npm test`) and reads the figures it posts
// back. Deterministic counts, no timing.
import type { DetectionFigures } from "./detection/figures";
import { runWorkerdPart } from "./lib/workerd-part";

export type { DetectionFigures };

export interface DetectionResult extends DetectionFigures {
  wallMs: number;
}

/** The vitest run's own bound; the bench inside stops itself after 100 s (BUDGET_MS there). */
const TIMEOUT_MS = 120_000;

export async function runDetection(dir: string): Promise<DetectionResult> {
  return runWorkerdPart<DetectionFigures>(dir, {
    label: "detection",
    config: "bench/vitest.detection.config.ts",
    outVar: "BENCH_DETECTION_OUT",
    outFile: "detection.json",
    timeoutMs: TIMEOUT_MS,
  });
}
