// 7. The cost of writing Analytics Engine data points: runs bench/analytics/analytics.bench-test.ts with
// bench/vitest.analytics.config.ts (inside workerd, never part of `npm test`) and reads the results it posts back.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runToEnd } from "../scripts/proc";
import type { AnalyticsFigures } from "./analytics/figures";
import { ROOT } from "./lib/stack";

export type AnalyticsResult = AnalyticsFigures & { wallMs: number };

export async function runAnalytics(dir: string): Promise<AnalyticsResult> {
  const out = join(dir, "analytics.json");
  rmSync(out, { force: true });
  const run = await runToEnd(
    join(ROOT, "node_modules/.bin/vitest"),
    ["run", "--config", "bench/vitest.analytics.config.ts", "--reporter=dot"],
    { cwd: ROOT, env: { ...process.env, BENCH_HOTPATH_OUT: out, NO_COLOR: "1" }, timeoutMs: 150_000 },
  );
  if (run.code !== 0 || !existsSync(out)) {
    throw new Error(`the analytics bench failed (${run.code}):\n${(run.stdout + run.stderr).slice(-3000)}`);
  }
  return { ...(JSON.parse(readFileSync(out, "utf8")) as AnalyticsFigures), wallMs: Math.round(run.ms) };
}

/** Part 7 as a table. */
export function analyticsTable(a: AnalyticsResult): string {
  const rows = a.scenarios.map((s) => [
    s.name,
    String(s.upstreamCallsPerRequest),
    String(s.pointsPerRequest),
    s.withoutBinding.medianMs.toFixed(2),
    s.withBinding.medianMs.toFixed(2),
    s.ratioMedian.toFixed(2),
    s.ratioP90.toFixed(2),
  ]);
  const head = ["page", "calls", "points", "p50 without (ms)", "p50 with (ms)", "ratio p50", "ratio p90"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [
    "7. Analytics Engine: the same page with and without the ANALYTICS binding, inside workerd (interleaved rounds)",
    line(head),
    ...rows.map(line),
    `points written through the binding: ${a.perPointUs.toFixed(2)} µs per point (built and handed over; 250, the limit per invocation, ${((a.perPointUs * 250) / 1000).toFixed(3)} ms)`,
  ].join("\n");
}
