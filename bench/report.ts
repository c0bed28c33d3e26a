// Targets (the performance issue's) evaluated on a run's results, and the printed tables. Each target also shows
// its value in the previous committed run (bench/latest.json), when that run measured it: before and after.

import type { DetectionResult } from "./detection";
import type { SourceFigures, TickFigures } from "./detection/figures";
import { FIRST_PAGE_CAP, type WalkResult } from "./efficiency";
import type { FeedMode, FeedsResult } from "./feeds";
import type { HotPathResult } from "./hotpath";
import type { LoadResult, SequentialRun } from "./load";
import type { BundleResult, StartupProfile } from "./size";

export interface TargetResult {
  id: string;
  what: string;
  target: string;
  value: string;
  met: boolean;
  /** Where the value comes from (the worst walk, for instance). */
  note?: string;
  /** The same target's value in the previous committed run, if it had one. */
  before?: string;
}

export interface Ratios {
  cachedOverHealthzRps: number;
  /** At the throughput scenarios' connections. */
  uncachedOverDirectP50: number;
  /**
   * The one-connection figures below come from the sequential loop (0.01 ms) when the run has it, else from
   * autocannon's a1–d1 scenarios (whole ms) as runs before it measured them.
   */
  oneConnectionSource: "sequential" | "autocannon";
  /** At one connection: tributary's own latency, without queueing. */
  uncachedOverDirectP50OneConnection: number;
  /** Uncached p50 minus direct p50 at one connection: what tributary adds, wrangler dev's floor included. */
  addedLatencyP50OneConnectionMs: number;
  /** /healthz p50 at one connection: the floor of wrangler dev's request path on this machine. */
  healthzP50OneConnectionMs: number;
  /** Cached page p50 minus /healthz p50, one connection. */
  cachedOverHealthzP50OneConnectionMs: number;
  /** Uncached page p50 minus (direct upstream p50 + /healthz p50), one connection: what tributary itself adds. */
  uncachedAddedOverFloorMs: number;
}

const worst = <T>(items: T[], by: (t: T) => number): T | undefined =>
  items.reduce<T | undefined>((w, t) => (w === undefined || by(t) > by(w) ? t : w), undefined);

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
const signed = (v: number) => `${v >= 0 ? "+" : ""}${fmt(v)}`;

export function ratiosOf(load: LoadResult[], sequential: SequentialRun | null = null): Ratios {
  const by = (prefix: string) => load.find((r) => r.scenario.startsWith(prefix));
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? Number.NaN : Math.round((a / b) * 1000) / 1000;
  const ms = (v: number) => Math.round(v * 100) / 100;
  const oneConnection = (prefix: string) =>
    sequential ? sequential.scenarios.find((r) => r.scenario.startsWith(prefix))?.p50Ms : by(prefix)?.latencyP50Ms;
  const [a1, b1, c1, d1] = ["a1.", "b1.", "c1.", "d1."].map((p) => oneConnection(p) ?? Number.NaN) as [
    number,
    number,
    number,
    number,
  ];
  return {
    cachedOverHealthzRps: ratio(by("b.")?.rps, by("a.")?.rps),
    uncachedOverDirectP50: ratio(by("c.")?.latencyP50Ms, by("d.")?.latencyP50Ms),
    oneConnectionSource: sequential ? "sequential" : "autocannon",
    uncachedOverDirectP50OneConnection: ratio(c1, d1),
    addedLatencyP50OneConnectionMs: ms(c1 - d1),
    healthzP50OneConnectionMs: a1,
    cachedOverHealthzP50OneConnectionMs: ms(b1 - a1),
    uncachedAddedOverFloorMs: ms(c1 - d1 - a1),
  };
}

/** Target ids whose value the sequential loop measures; autocannon measured them (whole ms) in earlier runs. */
const ONE_CONNECTION_TARGETS = new Set([
  "cached page p50 above /healthz p50, 1 connection",
  "uncached page p50 above direct upstream + /healthz, 1 connection",
]);

/**
 * The targets' values in a previous run's results (bench/latest.json), by id, for the before column. A run from
 * before the sequential loop measured the one-connection targets with autocannon, in whole ms: said so.
 */
export function previousTargets(prior: unknown): Map<string, string> {
  const p = prior as { targets?: { id: string; value: string }[]; load?: { sequential?: unknown } } | null;
  const autocannon = !p?.load?.sequential;
  return new Map(
    (p?.targets ?? []).map((t) => [
      t.id,
      autocannon && ONE_CONNECTION_TARGETS.has(t.id) ? `${t.value} (autocannon, whole ms)` : t.value,
    ]),
  );
}

export function evaluateTargets(results: {
  walks: WalkResult[];
  hotPath: HotPathResult | null;
  load: LoadResult[];
  sequential?: SequentialRun | null;
  bundle: BundleResult | null;
  feeds?: FeedsResult | null;
}): TargetResult[] {
  const out: TargetResult[] = [];
  const { walks } = results;
  const describe = (w: WalkResult | undefined) => (w ? `${w.route}, ${w.mode}` : "no walks");

  const aligned = walks.filter((w) => !w.feed && w.mode === "constant");
  const alignedWorst = worst(aligned, (w) => Math.max(w.callsPerPage, w.maxCallsPerPage));
  out.push({
    id: "calls/page, aligned provider walks",
    what: "upstream calls per page, constant-limit walks of the 4 provider routes through the cache (a hit counts 0)",
    target: "≤ 1.0",
    value: alignedWorst ? `${fmt(alignedWorst.callsPerPage)} (max ${alignedWorst.maxCallsPerPage} on a page)` : "n/a",
    met: aligned.length > 0 && aligned.every((w) => w.callsPerPage <= 1),
    note: `worst: ${describe(alignedWorst)}`,
  });

  const modes = ["constant", "varying", "backward", "head inserts"] as const;
  for (const mode of modes) {
    const set = walks.filter((w) => w.feed && w.mode === mode);
    const w = worst(set, (x) => x.maxCallsPerSourcePerPage);
    const second = set.reduce((a, x) => a + (x.pagesWithSecondCall ?? 0), 0);
    const pages = set.reduce((a, x) => a + x.pages, 0);
    out.push({
      id: `calls/source/page, merged feeds, ${mode}`,
      what: `most upstream calls one source made for one page, merged feeds of 1, 2 and 4 sources, ${mode} walks`,
      target: "≤ 1",
      value: w ? String(w.maxCallsPerSourcePerPage) : "n/a",
      met: set.length > 0 && set.every((x) => x.maxCallsPerSourcePerPage <= 1),
      note: `worst: ${describe(w)}; a second call on ${second} of ${pages} pages`,
    });
  }
  for (const [group, feed] of [
    ["provider routes", false],
    ["merged feeds", true],
  ] as const) {
    for (const mode of modes) {
      const set = walks.filter((w) => w.feed === feed && w.mode === mode);
      const w = worst(set, (x) => x.fetchedPerReturned);
      out.push({
        id: `fetched/returned, ${group}, ${mode}`,
        what: `items fetched upstream per item returned, ${group}, ${mode} walks`,
        target: "≤ 2",
        value: w ? fmt(w.fetchedPerReturned) : "n/a",
        met: set.length > 0 && set.every((x) => x.fetchedPerReturned <= 2),
        note: `worst: ${describe(w)}`,
      });
    }
  }

  const cachedWalks = walks.filter((w) => w.mode === "cached re-walk");
  const cachedCalls = cachedWalks.reduce((a, w) => a + w.calls, 0);
  out.push({
    id: "cached re-walk",
    what: "upstream calls of every route re-walked at once without no-cache",
    target: "0",
    value: String(cachedCalls),
    met: cachedWalks.length > 0 && cachedCalls === 0,
  });

  // Learning a cap should cost nothing: the first page by a new credential against the same page once the cap is
  // remembered (same credential, listing cache bypassed).
  const unknown = walks.filter((w) => w.mode === "capped first page");
  const extra = unknown.map((w) => {
    const known = walks.find((k) => k.mode === "capped first page, cap known" && k.limits === w.limits);
    return { limit: w.limits, calls: w.calls, extra: known ? w.calls - known.calls : Number.NaN };
  });
  out.push({
    id: "first page against a silently capping Inkit",
    what: `extra calls of a walk's first page against an Inkit capping at ${FIRST_PAGE_CAP} (limits ${extra.map((e) => e.limit).join(", ")}) over the same page with the cap remembered`,
    target: "+0 calls",
    value: extra.length > 0 ? extra.map((e) => `+${e.extra} (${e.calls} calls)`).join(", ") : "n/a",
    met: extra.length > 0 && extra.every((e) => e.extra <= 0),
    note: `limits ${extra.map((e) => e.limit).join(", ")}`,
  });

  // The medians' goals are the performance issue's; p99 keeps the earlier < 2 ms.
  const pageGoals = { "inkit runs": 1.5, "8x8 instances": 1.2 };
  for (const [provider, goal] of Object.entries(pageGoals)) {
    const name = `${provider}: parse + validate + normalize (500)`;
    const t = results.hotPath?.timings.find((x) => x.name === name);
    for (const stat of ["median", "p99"] as const) {
      const v = t ? (stat === "median" ? t.medianMs : t.p99Ms) : Number.NaN;
      const target = stat === "median" ? goal : 2;
      out.push({
        id: `500-item page, ${provider}, ${stat}`,
        what: `JSON.parse + validate + normalize of a 500-item upstream page in workerd, ${stat}`,
        target: stat === "median" ? `≤ ${target} ms` : `< ${target} ms`,
        value: `${fmt(v)} ms`,
        met: stat === "median" ? v <= target : v < target,
      });
    }
  }

  const ratios = ratiosOf(results.load, results.sequential ?? null);
  const clean =
    results.load.every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0) &&
    (results.sequential?.scenarios ?? []).every((r) => r.non200 === 0);
  const oneConnection =
    ratios.oneConnectionSource === "sequential"
      ? `sequential loop, ${results.sequential?.cycles} balanced cycles; paired median`
      : "autocannon, whole ms";
  out.push({
    id: "cached page / healthz throughput",
    what: "requests/s of a cached list page (limit 50) over requests/s of /healthz, 10 connections, same run",
    target: "≥ 0.90",
    value: fmt(ratios.cachedOverHealthzRps),
    met: clean && ratios.cachedOverHealthzRps >= 0.9,
    note: clean ? undefined : "some load requests failed: see the load table",
  });
  out.push({
    id: "cached page p50 above /healthz p50, 1 connection",
    what: "p50 of a cached list page minus p50 of /healthz, one connection, same run",
    target: "≤ +0.5 ms",
    value: `${signed(ratios.cachedOverHealthzP50OneConnectionMs)} ms`,
    met: clean && ratios.cachedOverHealthzP50OneConnectionMs <= 0.5,
    note: results.sequential
      ? `${oneConnection} ${signed(results.sequential.pairedMedianMs.cachedOverHealthz)} ms`
      : oneConnection,
  });
  out.push({
    id: "uncached page p50 above direct upstream + /healthz, 1 connection",
    what: "p50 of an uncached page (no-cache) minus the p50s of the direct upstream call and of /healthz",
    target: "≤ +1 ms",
    value: `${signed(ratios.uncachedAddedOverFloorMs)} ms`,
    met: clean && ratios.uncachedAddedOverFloorMs <= 1,
    note: results.sequential
      ? `${oneConnection} ${signed(results.sequential.pairedMedianMs.uncachedOverDirectAndHealthz)} ms`
      : oneConnection,
  });
  const feed4 = walks.find((w) => w.feed && w.mode === "constant" && w.route.includes("4"));
  out.push({
    id: "fetched/returned, merged feed of 4 sources",
    what: "items fetched upstream per item returned, a constant-limit walk of the 4-source feed through the cache",
    target: "≤ 1.2",
    value: feed4 ? fmt(feed4.fetchedPerReturned) : "n/a",
    met: feed4 !== undefined && feed4.fetchedPerReturned <= 1.2,
    note: feed4?.route,
  });

  const gzipKiB = results.bundle ? (results.bundle.wranglerGzipKiB ?? results.bundle.gzipBytes / 1024) : Number.NaN;
  out.push({
    id: "bundle gzip",
    what: "gzip size of the `wrangler deploy --dry-run` bundle (as wrangler reports it)",
    target: "≤ 200 KiB",
    value: `${fmt(gzipKiB, 1)} KiB`,
    met: gzipKiB <= 200,
  });
  out.push(...feedTargets(results.feeds ?? null));
  return out;
}

/** Issue 19's targets, from part 6. */
function feedTargets(feeds: FeedsResult | null): TargetResult[] {
  const out: TargetResult[] = [];
  const largest = feeds?.walks.filter((w) => w.sources === feeds.sources.total);
  const noCache = largest?.find((w) => w.mode === "no-cache");
  const cursor = Math.max(0, ...(largest ?? []).map((w) => w.cursorBytes));
  out.push({
    id: "cursor bytes, feed of 100 sources",
    what: "the longest next_cursor of the walks of a saved feed of 100 sources",
    target: "≤ 2048",
    value: largest?.length ? String(cursor) : "n/a",
    met: !!largest?.length && cursor <= 2048,
  });
  out.push({
    id: "first-page calls, feed of 100 sources",
    what: "upstream calls of the first page of a 100-source feed, no-cache (each source read at most once)",
    target: "≤ 100",
    value: noCache ? String(noCache.firstPageCalls) : "n/a",
    met: noCache !== undefined && noCache.firstPageCalls <= noCache.sources,
  });
  out.push({
    id: "later-page calls over what they must read, feed of 100 sources",
    what: "no-cache walk of a 100-source feed: later pages' calls minus the sources each must read (with an item from the page's first instant to the next item's), summed over the walk; as test/integration/runs.feed.scale.test.ts, one more per source (an 8x8 list's empty end)",
    target: `≤ +${feeds?.sources.total ?? 100}`,
    value: noCache ? `${noCache.laterCallsOverNeededNet >= 0 ? "+" : ""}${noCache.laterCallsOverNeededNet}` : "n/a",
    met: noCache !== undefined && noCache.laterCallsOverNeededNet <= noCache.sources,
    note: noCache
      ? `pages over what they must read: ${noCache.laterPagesOverNeeded} of ${noCache.pages - 1}, +${noCache.laterCallsOverNeeded} calls on them`
      : undefined,
  });
  const goal = feeds?.laterPagesGoal;
  out.push({
    id: "later pages p50, feed of 100 / feed of 4",
    what: "p50 of a 100-source feed's later pages over the 4-source feed's, no-cache walks interleaved in one run",
    target: `≤ ${goal?.goal ?? 1.5}`,
    value: goal ? fmt(goal.ratio) : "n/a",
    met: goal?.met ?? false,
  });
  const walks = feeds?.providerWalks.filter((w) => w.budget !== null) ?? [];
  const over = walks.filter((w) => w.pagesOverBudget > 0);
  out.push({
    id: "no-cache provider pages within the issue's budget",
    what: "no-cache walks of Inkit runs and an 8x8 definition at limits 7, 50, 500: pages over their budget (1 call; Inkit 500: 6 under a cap of 100)",
    target: "0 pages",
    value: walks.length ? String(walks.reduce((a, w) => a + w.pagesOverBudget, 0)) : "n/a",
    met: walks.length > 0 && over.length === 0,
    note: over.length ? `over: ${over.map((w) => `${w.route} ${w.limits}`).join(", ")}` : undefined,
  });
  return out;
}

function table(headers: string[], rows: (string | number)[][], right: boolean[] = []): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ");
  return [line(headers), widths.map((w) => "─".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

export function printTables(r: {
  walks: WalkResult[];
  crossCheck: { benchCounted: number; simulatorCounters: number; match: boolean } | null;
  hotPath: HotPathResult | null;
  detection?: DetectionResult | null;
  load: LoadResult[];
  sequential?: SequentialRun | null;
  bundle: BundleResult | null;
  startup: { readyLineMs: number | null; firstHealthyMs: number; firstHealthzLatencyMs: number } | null;
  profile: StartupProfile | { error: string } | null;
  feeds?: FeedsResult | null;
  targets: TargetResult[];
}): string {
  const parts: string[] = [];
  parts.push("1. Upstream efficiency (counted by the simulators; Cache-Control: no-cache except cached re-walks)");
  parts.push(
    table(
      [
        "route",
        "walk",
        "limit",
        "pages",
        "items",
        "calls",
        "calls/page",
        "max/page",
        "max/src/page",
        "fetched",
        "fetched/item",
      ],
      r.walks.map((w) => [
        w.route,
        w.mode + (w.complete ? "" : ` (first ${w.pages} pages)`),
        w.limits,
        w.pages,
        w.returned,
        w.calls,
        fmt(w.callsPerPage),
        w.maxCallsPerPage,
        w.maxCallsPerSourcePerPage,
        w.fetched,
        fmt(w.fetchedPerReturned),
      ]),
      [false, false, false, true, true, true, true, true, true, true, true],
    ),
  );
  if (r.crossCheck) {
    const c = r.crossCheck;
    parts.push(
      `calls counted by the bench: ${c.benchCounted}; by the simulators' /__admin/counters: ${c.simulatorCounters} (${c.match ? "match" : "MISMATCH"})`,
    );
  }
  if (r.hotPath) {
    parts.push(
      `\n2. Hot path inside workerd (${r.hotPath.clock.method}; per-iteration = batch time / k; zod compiled parsers: ${r.hotPath.runtime?.zodCompiledParsers ? "yes" : "no, as on Workers"})`,
    );
    parts.push(
      table(
        ["operation", "median ms", "p99 ms", "min ms", "k", "batches"],
        r.hotPath.timings.map((t) => [
          t.name,
          fmt(t.medianMs, 3),
          fmt(t.p99Ms, 3),
          fmt(t.minMs, 3),
          t.iterationsPerSample,
          t.samples,
        ]),
        [false, true, true, true, true, true],
      ),
    );
  }
  if (r.load.length > 0) {
    parts.push(
      `\n3. End to end under load (autocannon on loopback, ${r.load[0]?.durationS.toFixed(0)} s per scenario after a warm-up)`,
    );
    parts.push(
      table(
        ["scenario", "conns", "req/s", "p50 ms", "p99 ms", "mean ms", "non-2xx", "errors", "upstream calls"],
        r.load.map((l) => [
          l.scenario,
          l.connections,
          fmt(l.rps, 1),
          l.latencyP50Ms,
          l.latencyP99Ms,
          fmt(l.latencyMeanMs),
          l.non2xx,
          l.errors + l.timeouts,
          l.upstreamCalls,
        ]),
        [false, true, true, true, true, true, true, true, true],
      ),
    );
    const seq = r.sequential;
    if (seq) {
      parts.push(
        `\nOne connection, sequential (${seq.cycles} cycles of ${seq.requestsPerCycle} requests in ${fmt(seq.durationS, 1)} s after ${seq.warmupCycles} warm-up cycles; one request at a time, each scenario after each other equally often, 0.01 ms)`,
      );
      parts.push(
        table(
          ["scenario", "samples", "p50 ms", "p90 ms", "p99 ms", "mean ms", "min ms", "non-200", "new conns"],
          seq.scenarios.map((s) => [
            s.scenario,
            s.samples,
            fmt(s.p50Ms),
            fmt(s.p90Ms),
            fmt(s.p99Ms),
            fmt(s.meanMs),
            fmt(s.minMs),
            s.non200,
            s.newConnections,
          ]),
          [false, true, true, true, true, true, true, true, true],
        ),
      );
      parts.push(
        `paired medians (per cycle): cached − /healthz ${signed(seq.pairedMedianMs.cachedOverHealthz)} ms; uncached − direct − /healthz ${signed(seq.pairedMedianMs.uncachedOverDirectAndHealthz)} ms`,
      );
    }
    const q = ratiosOf(r.load, seq ?? null);
    parts.push(
      `cached/healthz req/s ${fmt(q.cachedOverHealthzRps)}; uncached/direct p50 ${fmt(q.uncachedOverDirectP50)}× (${r.load.find((l) => l.scenario.startsWith("c."))?.connections} conns), ${fmt(q.uncachedOverDirectP50OneConnection)}× (1 conn, ${q.oneConnectionSource}): tributary adds ${fmt(q.addedLatencyP50OneConnectionMs)} ms at p50, of which wrangler dev's floor (/healthz p50, 1 conn) is ${fmt(q.healthzP50OneConnectionMs)} ms`,
    );
  }
  parts.push("\n4. Size and start");
  const sizeRows: string[][] = [];
  if (r.bundle) {
    sizeRows.push([
      "bundle (wrangler deploy --dry-run)",
      `${fmt(r.bundle.bytes / 1024, 1)} KiB raw, ${fmt(r.bundle.gzipBytes / 1024, 1)} KiB gzip (zlib -6); wrangler: ${r.bundle.wranglerTotalKiB ?? "?"} KiB / gzip ${r.bundle.wranglerGzipKiB ?? "?"} KiB`,
    ]);
  }
  if (r.startup) {
    sizeRows.push([
      "wrangler dev: spawn → first 200 /healthz",
      `${fmt(r.startup.firstHealthyMs / 1000)} s (→ "Ready on": ${r.startup.readyLineMs === null ? "n/a" : `${fmt(r.startup.readyLineMs / 1000)} s`}; first /healthz ${fmt(r.startup.firstHealthzLatencyMs, 1)} ms)`,
    ]);
  }
  if (r.profile) {
    sizeRows.push([
      "startup phase (wrangler check startup)",
      "error" in r.profile
        ? r.profile.error
        : `${fmt(r.profile.profileSpanMs, 1)} ms profiled span, ${fmt(r.profile.busyMs, 1)} ms sampled busy`,
    ]);
  }
  parts.push(table(["what", "value"], sizeRows));
  if (r.detection) parts.push(`\n${detectionTable(r.detection)}`);
  if (r.feeds) parts.push(`\n${feedsTable(r.feeds)}`);
  parts.push("\nTargets");
  parts.push(
    table(
      ["target", "goal", "before", "after", "met", "note"],
      r.targets.map((t) => [t.id, t.target, t.before ?? "n/a", t.value, t.met ? "met" : "NOT MET", t.note ?? ""]),
    ),
  );
  return parts.join("\n");
}

/** The ticks of one source, in the order the bench runs them, with what each row shows. */
const TICKS: [label: string, tick: (s: SourceFigures) => TickFigures, note: (s: SourceFigures) => string][] = [
  ["baseline", (s) => s.baseline, () => ""],
  ["quiet, right after the baseline", (s) => s.quiet, () => ""],
  [
    "burst: 1,000 new open items",
    (s) => s.burst,
    (s) => `${fmt(s.burst.callsPer100Announced)} calls per 100 announced`,
  ],
  ["5,000 terminal items on top", (s) => s.bury, () => ""],
  ["quiet, 1,000 open at depth 5,000", (s) => s.quietAtDepth, () => ""],
  [
    "all 1,000 buried items completed",
    (s) => s.completion,
    (s) => `${s.completion.completedReported} of ${s.completion.completed} run.completed in this tick`,
  ],
  ["the tick after", (s) => s.afterCompletion, (s) => `${s.afterCompletion.completedReported} more run.completed`],
];

/** What a reader should not miss: figures past what the design promises, said plainly. */
function detectionFindings(d: DetectionResult): string[] {
  const out: string[] = [];
  const limit = d.config.webhookCheckCalls;
  for (const s of d.sources) {
    for (const [label, tick] of [
      ["quiet tick after the baseline", s.quiet],
      ["quiet tick at depth 5,000", s.quietAtDepth],
    ] as const) {
      // The README's promise: at most 3 calls for a quiet tick, plus, for 8x8, one per further 500 open instances.
      const promised = 3 + (s.name.startsWith("8x8") ? Math.max(0, Math.ceil(tick.watched / 500) - 1) : 0);
      if (tick.calls > promised) out.push(`${s.name}: the ${label} cost ${tick.calls} calls (more than ${promised})`);
    }
    if (!s.completion.allReportedInTick || s.afterCompletion.completedReported > 0)
      out.push(
        `${s.name}: completions spread over ticks: ${s.completion.completedReported} of ${s.completion.completed} in the tick, ${s.afterCompletion.completedReported} in the next`,
      );
    if (s.checkCallsExceeded) out.push(`${s.name}: a check made ${s.maxCheckCalls} calls, over ${limit}`);
    const ticks = TICKS.map(([label, tick]) => [label, tick(s)] as const);
    for (const [label, t] of ticks) {
      if (t.committed !== t.checks) out.push(`${s.name}, ${label}: ${t.checks} checks ran, ${t.committed} committed`);
      if (t.backlogLeft) out.push(`${s.name}, ${label}: a backlog was left for the next tick`);
    }
  }
  for (const m of d.crossCheck.mismatches) out.push(`call count mismatch: ${m}`);
  return out;
}

const KIND_LABELS: Record<string, string> = {
  "creation order": "new",
  "updated_at scan": "scan",
  "by id": "ids",
  "status lists": "status",
  "time windows": "window",
};

/** Calls by kind, short: `new 13 · scan 5 · ids 2`. */
const byKind = (kinds: Record<string, number> | undefined) =>
  Object.entries(kinds ?? {})
    .map(([kind, n]) => `${KIND_LABELS[kind] ?? kind} ${n}`)
    .join(" · ");

function detectionTable(d: DetectionResult): string {
  const lines: string[] = [];
  lines.push(
    `5. Change detection: upstream calls per cron tick, inside workerd (sum of detection_checks.calls over the tick's checks; WEBHOOK_CHECK_CALLS ${d.config.webhookCheckCalls}, WEBHOOK_CHECK_ITEMS ${d.config.webhookCheckItems}; Inkit caps pages at ${d.config.inkitPageSizeCap ?? "none"})`,
  );
  const rows: (string | number)[][] = [];
  for (const s of d.sources) {
    TICKS.forEach(([label, tick, note], i) => {
      const t = tick(s);
      rows.push([
        i === 0 ? s.name : "",
        label,
        t.checks,
        t.calls,
        byKind(t.callsByKind),
        t.maxCheckCalls,
        t.created,
        t.events,
        t.watched,
        t.itemsFetched,
        note(s),
      ]);
    });
  }
  lines.push(
    table(
      [
        "source",
        "tick",
        "checks",
        "calls",
        "calls by kind",
        "max/check",
        "created",
        "events",
        "watched",
        "fetched",
        "note",
      ],
      rows,
      [false, false, true, true, false, true, true, true, true, true, false],
    ),
  );
  lines.push(`sources: ${d.sources.map((s) => `${s.name} = ${s.source}`).join("; ")}`);
  const most = d.sources.map((s) => `${s.name} ${s.maxCheckCalls}`).join(", ");
  const exceeded = d.sources.some((s) => s.checkCallsExceeded);
  lines.push(
    `most calls by one check: ${most} (WEBHOOK_CHECK_CALLS ${d.config.webhookCheckCalls}: ${exceeded ? "EXCEEDED" : "never exceeded"})`,
  );
  lines.push(
    `calls counted by the checks against the simulators' /__admin/counters and the requests seen by kind, ${d.crossCheck.ticks} ticks: ${d.crossCheck.match ? "match" : "MISMATCH"}`,
  );
  for (const f of detectionFindings(d)) lines.push(`finding: ${f}`);
  return lines.join("\n");
}

function feedsTable(f: FeedsResult): string {
  const lines: string[] = [];
  const s = f.sources;
  lines.push(
    `6. Saved feeds at scale (sources: inkit, ${s.seededDefinitions} seeded 8x8 definitions, then ${s.addedDefinitions} of ${s.instancesPerAddedDefinition} instances; limit 50; the five walks of a mode interleaved with /healthz; "later" = pages after the first)`,
  );
  const ratioOf = (n: number) => f.ratios.find((r) => r.sources === n);
  const first = (n: number) => f.firstPages.find((p) => p.sources === n);
  const rows: (string | number)[][] = f.walks.map((w) => {
    const q = ratioOf(w.sources);
    const noCache = w.mode === "no-cache";
    return [
      w.sources,
      w.mode + (w.complete ? "" : ` (first ${w.pages} pages)`),
      w.pages,
      w.returned,
      w.cursorBytes,
      w.firstPageCalls,
      fmt(w.laterCallsPerPage),
      w.laterMaxCalls,
      fmt(w.laterNeededPerPage),
      fmt(w.laterContributingPerPage),
      `+${w.laterCallsOverNeeded} (${w.laterPagesOverNeeded})`,
      fmt(w.fetchedPerReturned),
      noCache ? fmt(first(w.sources)?.p50Ms ?? Number.NaN) : "",
      noCache ? fmt(q?.firstOverOneSource ?? Number.NaN) : "",
      fmt(w.laterP50Ms),
      fmt(q?.laterOverFourSources[w.mode as FeedMode] ?? Number.NaN),
      fmt(q?.laterOverHealthz[w.mode as FeedMode] ?? Number.NaN),
    ];
  });
  lines.push(
    table(
      [
        "sources",
        "walk",
        "pages",
        "items",
        "cursor B",
        "1st calls",
        "later calls/page",
        "max",
        "must read",
        "contribute",
        "over must",
        "fetched/item",
        "1st p50 ms",
        "×1-src",
        "later p50 ms",
        "×4-src",
        "×healthz",
      ],
      rows,
      [true, false, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true],
    ),
  );
  const g = f.laterPagesGoal;
  lines.push(
    `first pages: p50 of ${f.firstPages[0]?.samples ?? 0} no-cache samples each; /healthz p50 ${fmt(f.healthz.p50Ms)} ms (${f.healthz.samples} samples, same rounds). "must read": sources with an item from the page's first instant down to the next item's (ties included); "over must": calls above it, summed (pages).`,
  );
  lines.push(
    `later pages of the ${g.sources}-source feed: p50 ${fmt(g.ratio)} × the ${g.against}-source feed's (goal ≤ ${g.goal}: ${g.met ? "met" : "NOT MET"})`,
  );
  lines.push("\nNo-cache provider walks");
  lines.push(
    table(
      ["route", "limit", "pages", "items", "calls/page", "max/page", "budget", "pages over", "fetched/item"],
      f.providerWalks.map((w) => [
        w.route,
        w.limits,
        w.pages + (w.complete ? "" : " (partial)"),
        w.returned,
        fmt(w.callsPerPage),
        w.maxCallsPerPage,
        w.budget ?? "none",
        w.pagesOverBudget,
        fmt(w.fetchedPerReturned),
      ]),
      [false, true, true, true, true, true, true, true, true],
    ),
  );
  const c = f.crossCheck;
  lines.push(
    `calls counted by the bench: ${c.benchCounted}; by the simulators' /__admin/counters: ${c.simulatorCounters} (${c.match ? "match" : "MISMATCH"})`,
  );
  return lines.join("\n");
}
