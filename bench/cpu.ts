// 8. CPU per invocation (issue 31): runs bench/cpu/cpu.bench-test.ts with bench/vitest.cpu.config.ts (inside workerd,
// never part of `npm test`), reads the figures it posts back, prints them as a table and checks them against the
// guard: the platform's 10 ms of CPU per invocation (free plan), and each ratio to the control against the last
// recorded run (bench/latest.json `cpu`).
import type { CpuFigures, CpuRow } from "./cpu/figures";
import { runWorkerdPart } from "./lib/workerd-part";

export type CpuResult = CpuFigures & { wallMs: number };

/** How far a ratio to the control may grow from the last recorded run before the bench fails. */
export const RATIO_REGRESSION = 0.2;

export async function runCpu(dir: string): Promise<CpuResult> {
  return runWorkerdPart<CpuFigures>(dir, {
    label: "cpu",
    config: "bench/vitest.cpu.config.ts",
    outVar: "BENCH_CPU_OUT",
    outFile: "cpu.json",
    timeoutMs: 420_000,
  });
}

const STAGES = [
  "auth",
  "rate limit",
  "cache",
  "reads",
  "parse and normalize",
  "assemble",
  "cursor",
  "serialize",
  "log",
  "metrics",
  "storage",
  "other",
];
const SHORT: Record<string, string> = {
  auth: "auth",
  "rate limit": "rl",
  cache: "cache",
  reads: "reads",
  "parse and normalize": "parse",
  assemble: "asm",
  cursor: "cursor",
  serialize: "ser",
  log: "log",
  metrics: "metr",
  storage: "d1",
  other: "other",
};

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [line(head), ...rows.map(line)];
}

/** What a recorded run (bench/latest.json's `cpu` member) says of each request type: its ratio and its own CPU. */
export interface Recorded {
  ratio: number;
  cpuMs: number;
}

/** Each request type's ratio and median CPU in a recorded run (bench/latest.json's `cpu` member). */
export function previousRatios(latest: unknown): Map<string, Recorded> {
  const rows = (latest as { cpu?: { rows?: CpuRow[] } } | null)?.cpu?.rows ?? [];
  return new Map(rows.map((r) => [r.id, { ratio: r.ratio, cpuMs: r.cpu.medianMs }]));
}

/**
 * The CPU the guard holds against a request type's limit: the isolate's (the total less the storage replay, plus D1's
 * client side: bench/README.md, part 9), or the total when the row has no storage split (a run before it).
 */
export function guardedCpu(r: CpuRow): { medianMs: number; what: string } {
  return r.isolateCpu
    ? {
        medianMs: r.isolateCpu.medianMs,
        what: `isolate CPU (median; ${r.cpu.medianMs.toFixed(2)} ms in-process total)`,
      }
    : { medianMs: r.cpu.medianMs, what: "CPU (median)" };
}

/**
 * What the guard finds: request types over their plan's CPU limit per invocation (10 ms at the free plan's defaults),
 * or without a figure at all, and ratios to the control more than 20% above the recorded run's (regressions). A ratio
 * counts as regressed only when the worker's own CPU rose more than 20% too: the smallest controls (a few hundredths
 * of a millisecond) move by a third from run to run, and a control that ran faster is not the worker's regression.
 */
export function cpuGuard(
  rows: CpuRow[],
  previous: Map<string, Recorded>,
): { overLimit: string[]; regressions: string[]; regressedIds: string[] } {
  const overLimit: string[] = [];
  const regressions: string[] = [];
  const regressedIds: string[] = [];
  for (const r of rows) {
    const { medianMs, what } = guardedCpu(r);
    // A figure that is not a number (no batch measured) must fail too: `NaN > limit` is false.
    if (!Number.isFinite(medianMs) || !Number.isFinite(r.limitMs))
      overLimit.push(`${r.name}: no CPU figure (${medianMs} ms), so not within the ${r.limitMs} ms limit`);
    else if (medianMs > r.limitMs)
      overLimit.push(`${r.name}: ${medianMs.toFixed(2)} ms of ${what}, over the ${r.limitMs} ms limit`);
    const recorded = previous.get(r.id);
    if (recorded === undefined) continue;
    const before = recorded.ratio;
    const ratioRose = !(r.ratio <= before * (1 + RATIO_REGRESSION));
    const cpuRose = !(r.cpu.medianMs <= recorded.cpuMs * (1 + RATIO_REGRESSION));
    if (ratioRose && cpuRose) regressedIds.push(r.id);
    if (ratioRose && cpuRose)
      regressions.push(
        `${r.name}: ${r.ratio.toFixed(2)}× the control, ${(((r.ratio - before) / before) * 100).toFixed(0)}% above the recorded ${before.toFixed(2)}× (${r.cpu.medianMs.toFixed(3)} ms against ${recorded.cpuMs.toFixed(3)})`,
      );
  }
  return { overLimit, regressions, regressedIds };
}

/** Part 9 as tables: CPU per invocation beside the control, then each request type's stage shares. */
export function cpuTable(c: CpuResult, guard: { overLimit: string[]; regressions: string[] }): string {
  const findings = [...guard.overLimit, ...guard.regressions];
  const main = table(
    [
      "request",
      "status",
      "calls",
      "items served/returned",
      "CPU p50 (ms)",
      "p99",
      "isolate p50",
      "control p50",
      "p99",
      "ratio",
      "limit",
      "wall p50",
      "control",
    ],
    c.rows.map((r) => [
      r.name,
      String(r.status),
      String(r.upstreamCalls),
      r.itemsReturned === null ? String(r.itemsServed) : `${r.itemsServed}/${r.itemsReturned}`,
      r.cpu.medianMs.toFixed(3),
      r.cpu.p99Ms.toFixed(3),
      r.isolateCpu ? r.isolateCpu.medianMs.toFixed(3) : "?",
      r.controlCpu.medianMs.toFixed(3),
      r.controlCpu.p99Ms.toFixed(3),
      `${r.ratio.toFixed(2)}×`,
      `${r.limitMs >= 1000 ? `${r.limitMs / 1000} s` : `${r.limitMs} ms`}`,
      r.wall.medianMs.toFixed(3),
      r.control,
    ]),
  );
  const stages = table(
    ["request", ...STAGES.map((s) => SHORT[s] ?? s)],
    c.rows.map((r) => [
      r.name,
      ...STAGES.map((s) => {
        const share = r.stages?.[s];
        return share === undefined || share === 0 ? "·" : `${Math.round(share * 100)}%`;
      }),
    ]),
  );
  const split = table(
    [
      "request",
      "d1 stmts",
      "d1 trips (by call)",
      "object trips",
      "writes",
      "total p50",
      "storage replay",
      "d1 client",
      "isolate p50",
      "p99",
      "iso ratio",
      "limit",
      "recorded",
      "undo (ms)",
    ],
    c.rows.map((r) => {
      const s = r.storage;
      const via = s
        ? Object.entries(s.d1ByVia)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")
        : "";
      return [
        r.name,
        s ? String(s.d1Statements) : "?",
        s ? `${s.d1RoundTrips}${via ? ` (${via})` : ""}` : "?",
        s
          ? `${s.objectRoundTrips}${
              Object.keys(s.objectCalls).length > 0
                ? ` (${Object.entries(s.objectCalls)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(", ")})`
                : ""
            }`
          : "?",
        s && s.tablesWritten.length > 0 ? s.tablesWritten.join(" ") : "·",
        r.cpu.medianMs.toFixed(3),
        s ? s.replayCpu.medianMs.toFixed(3) : "?",
        s ? (s.shimCpu ? s.shimCpu.medianMs.toFixed(3) : "n/a") : "?",
        r.isolateCpu ? r.isolateCpu.medianMs.toFixed(3) : "?",
        r.isolateCpu ? r.isolateCpu.p99Ms.toFixed(3) : "?",
        r.isolateRatio === undefined ? "?" : `${r.isolateRatio.toFixed(2)}×`,
        `${r.limitMs >= 1000 ? `${r.limitMs / 1000} s` : `${r.limitMs} ms`}`,
        s ? `${s.invocationsRecorded} inv.` : "?",
        s ? String(s.undoCpuMs) : "?",
      ];
    }),
  );
  const notes = c.rows.filter((r) => r.note).map((r) => `note: ${r.name}: ${r.note}`);
  return [
    "9. CPU per invocation inside workerd: the worker's fetch, scheduled and queue handlers beside a bare Hono control, same bytes (interleaved batches)",
    ...main,
    `clock: ${c.clock.method}; bracket ${c.clock.bracketCpuMs} ms CPU subtracted; the process idles at ${c.clock.idleCpuMsPerS} ms CPU/s; one grant round trip to an UpstreamBudget object (both sides, in this process) ${c.clock.budgetGrantCpuMs ?? "?"} ms CPU; performance.now() advances during CPU work: ${c.clock.performanceNowAdvancesDuringCpu} (busy loop ${c.clock.busyLoopMs} ms)`,
    ...notes,
    "",
    "storage split per invocation: D1 and the Durable Objects run in this process locally, elsewhere in production. The bench records the worker's storage calls in reference invocations and replays exactly them itself (CPU in ms; undo after each replayed invocation subtracted). isolate = total − storage replay + d1 client (the same D1 calls through the runtime's D1 client on a transport answering from memory: billed in production, so added back). The objects' client side (serializing a call's arguments and answer) is not added back: the isolate figure is low by that much per object trip. The guard's limit applies to the isolate figure; its ratio check to `ratio` (total / control), as recorded.",
    ...split,
    "",
    "stage shares (self time, wall clock, summed over a pass with the recorder installed; d1 = D1 statements, other = routing, validation, handlers)",
    ...stages,
    ...(findings.length > 0
      ? ["", ...findings.map((f) => `guard: ${f}`)]
      : ["", "guard: every request type within its CPU limit and within 20% of its recorded ratio"]),
  ].join("\n");
}
