// 7. The cost of writing Analytics Engine data points: runs bench/analytics/analytics.bench-test.ts with
// bench/vitest.analytics.config.ts (inside workerd, never part of `npm test`) and reads the results it posts back.
import type { AnalyticsFigures } from "./analytics/figures";
import { runWorkerdPart } from "./lib/workerd-part";

export type AnalyticsResult = AnalyticsFigures & { wallMs: number };

export async function runAnalytics(dir: string): Promise<AnalyticsResult> {
  return runWorkerdPart<AnalyticsFigures>(dir, {
    label: "analytics",
    config: "bench/vitest.analytics.config.ts",
    outVar: "BENCH_HOTPATH_OUT",
    outFile: "analytics.json",
    timeoutMs: 150_000,
  });
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
