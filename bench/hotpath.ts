// 2. Hot-path cost inside workerd: runs bench/hotpath/hotpath.bench-test.ts with bench/vitest.bench.config.ts
// (the tests' workerd pool, never part of `npm test`) and reads the results it posts back.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runToEnd } from "../scripts/proc";
import type { HotPathTiming } from "./hotpath/timing";
import { ROOT } from "./lib/stack";

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
  const out = join(dir, "hotpath.json");
  rmSync(out, { force: true });
  const run = await runToEnd(
    join(ROOT, "node_modules/.bin/vitest"),
    ["run", "--config", "bench/vitest.bench.config.ts", "--reporter=dot"],
    { cwd: ROOT, env: { ...process.env, BENCH_HOTPATH_OUT: out, NO_COLOR: "1" }, timeoutMs: 150_000 },
  );
  if (run.code !== 0 || !existsSync(out)) {
    throw new Error(`the hot-path bench failed (${run.code}):\n${(run.stdout + run.stderr).slice(-3000)}`);
  }
  return { ...(JSON.parse(readFileSync(out, "utf8")) as Omit<HotPathResult, "wallMs">), wallMs: Math.round(run.ms) };
}
