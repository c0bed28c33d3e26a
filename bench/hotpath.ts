// 2. Hot-path cost inside workerd: runs bench/hotpath/hotpath.bench-test.ts with bench/vitest.bench.config.ts
// (the tests' workerd pool, never part of `npm test`) and reads the results it posts back.
import type { HotPathTiming } from "./hotpath/timing";
import { runWorkerdPart } from "./lib/workerd-part";

export type { HotPathTiming };

export interface HotPathResult {
  clock: {
    performanceNowAdvancesDuringCpu: boolean;
    busyLoopMs: number;
    method: string;
    bracketCostMs: number;
    sampleTargetMs: number;
  };
  runtime: { userAgent: string; codeGenerationFromStrings: boolean; zodCompiledParsers: boolean };
  sizes: Record<string, number>;
  timings: HotPathTiming[];
  wallMs: number;
}

export async function runHotPath(dir: string): Promise<HotPathResult> {
  return runWorkerdPart<Omit<HotPathResult, "wallMs">>(dir, {
    label: "hot-path",
    config: "bench/vitest.bench.config.ts",
    outVar: "BENCH_HOTPATH_OUT",
    outFile: "hotpath.json",
    timeoutMs: 150_000,
  });
}
