// `npm run bench`: measures tributary's upstream efficiency, hot-path cost, end-to-end overhead, size and startup
// (issue 8), change detection's upstream calls per tick, saved feeds of up to 100 sources (issue 19), the cost of
// writing Analytics Engine data points (issue 21), and CPU per invocation inside workerd (issue 31, part 9). Opt-in: a
// burst of new upstream items through `npm start`'s stack (issue 30, part 8, `--only=burst`); it is not part of a full
// run. Prints a table
// and writes the results as JSON. Loopback only; bounded in time (a hard deadline stops
// everything); every child process is stopped on the way out. See bench/README.md.
//
//   npm run bench                       every part
//   npm run bench -- --only=efficiency  some parts (size, hotpath, detection, efficiency, load, feeds, analytics,
//                                       cpu), comma-separated
//   npm run bench -- --only=burst       part 8 alone: 10,000 + 10,000 items (--burst=N: N + N; --inspector: the stack
//                                       with wrangler's DevTools inspector on, the way `wrangler dev` runs it)
//   npm run bench -- --only=cpu --new-cpu-reference
//                                       part 9, recorded as the reference even where a ratio rose: for a change of
//                                       method (the control, what a row measures), said in the commit that records it
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { installCleanup, runToEnd, stopAll } from "../scripts/proc";
import { type AnalyticsResult, analyticsTable, runAnalytics } from "./analytics";
import { type BurstResult, burstSizeFromArgs, burstTable, runBurst } from "./burst";
import { type CpuResult, cpuGuard, cpuTable, previousRatios, runCpu } from "./cpu";
import { type DetectionResult, runDetection } from "./detection";
import { CONSTANT_LIMIT, runEfficiency, VARYING_LIMITS, type WalkResult } from "./efficiency";
import {
  FEED_LIMIT,
  FEED_SIZES,
  type FeedsResult,
  FIRST_PAGE_REPEATS,
  INSTANCES_PER_DEFINITION,
  PROVIDER_LIMITS,
  runFeeds,
} from "./feeds";
import { type HotPathResult, runHotPath } from "./hotpath";
import { BENCH_SUBREQUEST_LIMIT, demoApiKey, ROOT, startSimulators, startWorker, type Worker } from "./lib/stack";
import { type Context, countedCalls, simulatorCounterTotal } from "./lib/walk";
import {
  CONNECTIONS,
  DURATION_S,
  type LoadResult,
  PAGE_PATH,
  runLoad,
  type SequentialRun,
  UPSTREAM_LATENCY_MS,
  WARMUP_S,
} from "./load";
import { evaluateTargets, previousTargets, printTables, ratiosOf } from "./report";
import { type BundleResult, measureBundle, profileStartup, type StartupProfile } from "./size";

const DEADLINE_MS = 360_000;
/** Part 8's own limit; the runner's deadline grows by it when the part is selected. */
const BURST_TIMEOUT_MS = 900_000;
const KEEP_RUNS = 3;
const PARTS = ["size", "hotpath", "detection", "efficiency", "load", "feeds", "analytics", "cpu"] as const;
/** Parts that run only when named in --only. */
const OPT_IN = ["burst"] as const;
type Part = (typeof PARTS)[number] | (typeof OPT_IN)[number];
const KNOWN: readonly Part[] = [...PARTS, ...OPT_IN];

const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const parts = new Set<Part>(only ? (only.split(",").filter((p) => KNOWN.includes(p as Part)) as Part[]) : PARTS);

const started = performance.now();
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const resultsRoot = join(ROOT, "bench/results");
const dir = join(resultsRoot, stamp);
mkdirSync(dir, { recursive: true });

const log = (line: string) => console.log(line);
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

installCleanup();
const deadlineMs = DEADLINE_MS + (parts.has("burst") ? BURST_TIMEOUT_MS + 60_000 : 0);
const deadline = setTimeout(() => {
  console.error(`bench: over the ${deadlineMs / 1000} s deadline, stopping`);
  void stopAll().finally(() => process.exit(2));
}, deadlineMs);
deadline.unref();

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

const version = (pkg: string) =>
  (JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

/** When each phase began (s since start) and the 1-minute load average then; the first is before the bench's own work. */
const phases: { phase: string; atS: number; loadavg1m: number }[] = [];
const noteLoad = (phase: string) =>
  phases.push({
    phase,
    atS: Math.round((performance.now() - started) / 100) / 10,
    loadavg1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  });
noteLoad("before");

let bundle: BundleResult | null = null;
let profile: StartupProfile | { error: string } | null = null;
let hotPath: HotPathResult | null = null;
let detection: DetectionResult | null = null;
let analytics: AnalyticsResult | null = null;
let cpu: CpuResult | null = null;
let burst: BurstResult | null = null;
let walks: WalkResult[] = [];
let crossCheck: { benchCounted: number; simulatorCounters: number; match: boolean } | null = null;
let load: LoadResult[] = [];
let sequential: SequentialRun | null = null;
let feeds: FeedsResult | null = null;
let startup: Worker["startup"] | null = null;
let failure: unknown = null;

try {
  if (parts.has("size")) {
    noteLoad("size");
    log(`[${elapsed()}] 4. bundle: wrangler deploy --dry-run`);
    bundle = await measureBundle(dir);
    log(`[${elapsed()}] 4. startup profile: wrangler check startup`);
    profile = await profileStartup(dir);
  }
  if (parts.has("hotpath")) {
    noteLoad("hotpath");
    log(`[${elapsed()}] 2. hot path inside workerd (vitest, bench/vitest.bench.config.ts)`);
    hotPath = await runHotPath(dir);
  }
  if (parts.has("detection")) {
    noteLoad("detection");
    log(`[${elapsed()}] 5. change detection inside workerd (vitest, bench/vitest.detection.config.ts)`);
    detection = await runDetection(dir);
  }
  if (parts.has("analytics")) {
    noteLoad("analytics");
    log(`[${elapsed()}] 7. Analytics Engine data points inside workerd (vitest, bench/vitest.analytics.config.ts)`);
    analytics = await runAnalytics(dir);
  }
  if (parts.has("cpu")) {
    noteLoad("cpu");
    log(`[${elapsed()}] 9. CPU per invocation inside workerd (vitest, bench/vitest.cpu.config.ts)`);
    cpu = await runCpu(dir);
  }
  if (parts.has("efficiency") || parts.has("load") || parts.has("feeds")) {
    noteLoad("start");
    log(`[${elapsed()}] starting the simulators and wrangler dev`);
    const sims = await startSimulators();
    const worker = await startWorker(sims, dir);
    startup = worker.startup;
    log(
      `[${elapsed()}] worker healthy at ${worker.origin} (${(startup.firstHealthyMs / 1000).toFixed(1)} s after spawn)`,
    );
    const ctx: Context = {
      origin: worker.origin,
      apiKey: demoApiKey(),
      sims: { inkit: sims.inkitUrl, "8x8": sims.eightByEightUrl },
    };
    if (parts.has("efficiency")) {
      noteLoad("efficiency");
      log(`[${elapsed()}] 1. upstream efficiency`);
      walks = await runEfficiency(ctx, log);
      const simulatorCounters = await simulatorCounterTotal(ctx);
      crossCheck = { benchCounted: countedCalls(), simulatorCounters, match: countedCalls() === simulatorCounters };
    }
    if (parts.has("load")) {
      noteLoad("load");
      log(`[${elapsed()}] 3. end to end under load`);
      ({ scenarios: load, sequential } = await runLoad(
        { origin: worker.origin, apiKey: ctx.apiKey, inkitUrl: sims.inkitUrl, eightByEightUrl: sims.eightByEightUrl },
        log,
      ));
    }
    if (parts.has("feeds")) {
      // Last: it resets the simulators and adds definitions, which the other parts' figures do not expect.
      noteLoad("feeds");
      log(`[${elapsed()}] 6. saved feeds of ${FEED_SIZES.join(", ")} sources; no-cache provider walks`);
      feeds = await runFeeds(ctx, log);
    }
    noteLoad("end");
  }
  if (parts.has("burst")) {
    noteLoad("burst");
    const perSource = burstSizeFromArgs(process.argv);
    log(`[${elapsed()}] 8. burst of ${perSource} + ${perSource} new items through npm start's stack`);
    burst = await runBurst(
      { perSource, inspector: process.argv.includes("--inspector"), timeoutMs: BURST_TIMEOUT_MS, dir },
      (line) => log(line),
    );
    if (!burst.passed) failure = new Error(`burst: ${burst.problems.join("; ")}`);
  }
} catch (error) {
  failure = error;
} finally {
  await stopAll();
}

// Before: the same targets in the previous committed run.
const recorded = (() => {
  try {
    return JSON.parse(readFileSync(join(ROOT, "bench/latest.json"), "utf8")) as unknown;
  } catch {
    return null;
  }
})();
const previous = recorded === null ? new Map<string, string>() : previousTargets(recorded);
// Part 9's guard: over 10 ms of CPU, or a ratio to the control 20% above the recorded run's. A new reference (a change
// of method, `--new-cpu-reference`) is held to the limit only: its ratios replace the recorded ones.
const newCpuReference = process.argv.includes("--new-cpu-reference");
// A ratio that looks regressed is measured once more, those rows alone, and only a regression seen twice fails: the
// smallest rows (a tenth of a millisecond) move by a fifth from run to run on unchanged code.
let cpuRemeasured: string[] = [];
if (cpu !== null && !newCpuReference) {
  const first = cpuGuard(cpu.rows, previousRatios(recorded));
  if (first.regressedIds.length > 0) {
    log(`[${elapsed()}] 9. again, rows whose ratio looked regressed: ${first.regressedIds.join(", ")}`);
    const only = process.env.BENCH_CPU_ONLY;
    process.env.BENCH_CPU_ONLY = first.regressedIds.join(",");
    try {
      const again = await runCpu(dir);
      cpu.rows = cpu.rows.map((r) => again.rows.find((a) => a.id === r.id) ?? r);
      cpuRemeasured = first.regressions;
    } finally {
      if (only === undefined) delete process.env.BENCH_CPU_ONLY;
      else process.env.BENCH_CPU_ONLY = only;
    }
  }
}
const cpuGuarded =
  cpu === null
    ? { overLimit: [], regressions: [] }
    : cpuGuard(cpu.rows, newCpuReference ? new Map() : previousRatios(recorded));
const cpuFindings = [...cpuGuarded.overLimit, ...cpuGuarded.regressions];
const targets = evaluateTargets({ walks, hotPath, load, sequential, bundle, feeds }).map((t) => ({
  ...t,
  before: previous.get(t.id),
}));
const complete = failure === null && PARTS.every((p) => parts.has(p));
const cores = cpus();
const results = {
  schema: 1,
  generatedAt: new Date().toISOString(),
  complete,
  parts: [...parts],
  error: failure === null ? null : String(failure instanceof Error ? (failure.stack ?? failure.message) : failure),
  durationS: Math.round((performance.now() - started) / 100) / 10,
  machine: {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cores.length,
    cpuModel: cores[0]?.model ?? null,
    /**
     * 1-minute load average as each phase began. "before" is other work on the machine: above the core count,
     * it competed with the bench and the timing figures (parts 2, 3 and 6) are pessimistic.
     */
    phases,
  },
  versions: {
    tributary: (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    commit: git(["rev-parse", "--short", "HEAD"]),
    uncommittedChanges: (git(["status", "--porcelain"]) ?? "").split("\n").filter(Boolean).length,
    wrangler: version("wrangler"),
    workerd: version("workerd"),
    autocannon: version("autocannon"),
  },
  targets,
  efficiency: {
    method:
      "Full walks through the worker under wrangler dev, Cache-Control: no-cache (except cached re-walks). Calls and items counted by the simulators per upstream listing (bench/sim-server.ts): items fetched = sum of items in upstream response bodies.",
    constantLimit: CONSTANT_LIMIT,
    varyingLimits: VARYING_LIMITS,
    headInserts:
      "before each page after the first, per source k of the route: ((i + k) * 7919 + 13) % (limit + 1) items; 12 pages",
    crossCheck,
    walks,
  },
  hotPath,
  detection:
    detection === null
      ? null
      : {
          method:
            "Inside workerd (bench/detection/): the worker's scheduled handler, then each detection queue message in an invocation of its own (continuations included), per source from an empty store and fresh simulators. Calls per tick = sum of detection_checks.calls over the tick's checks, cross-checked against the simulator's /__admin/counters cleared before the tick.",
          ...detection,
        },
  load: {
    tool: "autocannon (throughput, 10 connections); bench/load.ts sequential loop (latency, 1 connection)",
    connections: CONNECTIONS,
    warmupS: WARMUP_S,
    durationS: DURATION_S,
    upstreamLatencyMs: UPSTREAM_LATENCY_MS,
    page: PAGE_PATH,
    scenarios: load,
    /** Latency at one connection (a1–d1), 0.01 ms: the sequential loop of bench/load.ts. */
    sequential,
    ratios: load.length > 0 ? ratiosOf(load, sequential) : null,
  },
  size: { bundle, startup, startupProfile: profile },
  cpu:
    cpu === null
      ? null
      : {
          generatedAt: new Date().toISOString(),
          commit: git(["rev-parse", "--short", "HEAD"]),
          guard: cpuGuarded,
          // Rows measured again because their ratio looked regressed at first (what the first run said).
          remeasured: cpuRemeasured,
          ...cpu,
        },
  analytics:
    analytics === null
      ? null
      : { generatedAt: new Date().toISOString(), commit: git(["rev-parse", "--short", "HEAD"]), ...analytics },
  burst:
    burst === null
      ? null
      : {
          generatedAt: new Date().toISOString(),
          commit: git(["rev-parse", "--short", "HEAD"]),
          method:
            "scripts/start.ts (npm start) on free ports with its state under the run's directory; N new Inkit runs and N new 8x8 instances (one seeded definition) inserted at once; one webhook endpoint (a counting, verifying consumer) and one poll-only subscription under the second API key, read from GET /v1/event-stream. Once a second: /proc/<pid>/fd of wrangler's Node process and its workerd processes (summed), and /healthz (5 s timeout). Delivery rate = events delivered / (last - first delivery).",
          ...burst,
        },
  feeds:
    feeds === null
      ? null
      : {
          method: `Saved feeds (POST /v1/feeds) of the first n of: inkit, the seeded 8x8 definitions, ${INSTANCES_PER_DEFINITION}-instance definitions added by POST /__admin/definitions (simulators reset first). Each walked in full at limit ${FEED_LIMIT}, the five walks interleaved page by page with one /healthz per round: once with Cache-Control: no-cache on every page, once through the listing cache from a cold start. First pages: ${FIRST_PAGE_REPEATS} more no-cache samples each, interleaved. Provider walks: no-cache at limits ${PROVIDER_LIMITS.join(", ")}. Latency = request to the body's last byte; wrangler dev runs with SUBREQUEST_LIMIT ${BENCH_SUBREQUEST_LIMIT}.`,
          ...feeds,
        },
};

const before = phases[0]?.loadavg1m ?? 0;
const contention =
  before > cores.length
    ? `\nNote: the load average was ${before} on ${cores.length} cores before the bench began: other work competed with it, so the timings of parts 2, 3 and 6 (and part 8's rates) are pessimistic. Parts 1, 4 and 5 and the call counts of 6's no-cache walks are unaffected (its cached walks' counts depend on how many entries expire mid-walk).`
    : "";
// A run of opt-in parts alone has none of the targets: print their tables only.
const onlyOptIn = [...parts].every((p) => (OPT_IN as readonly string[]).includes(p));
const printed = `${onlyOptIn ? "" : printTables({ walks, crossCheck, hotPath, detection, load, sequential, bundle, startup, profile, feeds, targets })}${analytics ? `\n\n${analyticsTable(analytics)}` : ""}${cpu ? `\n\n${cpuTable(cpu, cpuGuarded)}${cpuRemeasured.length > 0 ? `\nmeasured again (the first measurement looked regressed):\n${cpuRemeasured.map((f) => `  ${f}`).join("\n")}` : ""}` : ""}${burst ? `${onlyOptIn ? "" : "\n\n"}${burstTable(burst)}` : ""}${contention}`;
console.log(`\n${printed}`);
const fullPath = join(dir, "results.json");
writeFileSync(fullPath, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, "table.txt"), `${printed}\n`);
// The committed summary the README quotes: the same, without per-page arrays.
const summary = {
  ...results,
  efficiency: { ...results.efficiency, walks: walks.map(({ perPageCalls: _, perPageMostBySource: __, ...w }) => w) },
  feeds:
    results.feeds === null
      ? null
      : {
          ...results.feeds,
          walks: results.feeds.walks.map(
            ({ perPageCalls: _, perPageNeeded: __, perPageContributing: ___, perPageMs: ____, ...w }) => w,
          ),
          providerWalks: results.feeds.providerWalks.map(({ perPageCalls: _, perPageMostBySource: __, ...w }) => w),
        },
};
const latestPath = join(ROOT, "bench/latest.json");
// A run of part 7 or 8 alone (or with others) records it in latest.json's `analytics` or `burst` member, stamped with
// its own time and commit, and leaves the rest as the last complete run wrote it. A complete run keeps the last burst.
// Part 9 likewise, in its `cpu` member, unless a ratio regressed: a regressed run never becomes the reference. A request
// type over its CPU limit fails the bench too, but its figures are still the reference the next run's ratios face.
// A run of some request types only (BENCH_CPU_ONLY) is a measurement of one change, never the reference.
const cpuKept = cpu !== null && cpuGuarded.regressions.length === 0 && !process.env.BENCH_CPU_ONLY;
const partial = !complete && failure === null && (analytics !== null || burst !== null || cpuKept);
if (complete || partial) {
  const prior = JSON.parse(readFileSync(latestPath, "utf8")) as Record<string, unknown>;
  const written = complete
    ? { ...summary, burst: results.burst ?? prior.burst ?? null, ...(cpuKept ? {} : { cpu: prior.cpu ?? null }) }
    : {
        ...prior,
        ...(analytics !== null ? { analytics: results.analytics } : {}),
        ...(burst !== null ? { burst: results.burst } : {}),
        ...(cpuKept ? { cpu: results.cpu } : {}),
      };
  writeFileSync(latestPath, `${JSON.stringify(written, null, 2)}\n`);
  // Committed, so formatted the way `npm run lint` (biome) expects.
  await runToEnd(join(ROOT, "node_modules/.bin/biome"), ["format", "--write", latestPath], {
    cwd: ROOT,
    timeoutMs: 30_000,
  });
}

for (const old of readdirSync(resultsRoot)
  .filter((name) => /^\d{4}-\d\d-\d\dT/.test(name))
  .sort()
  .slice(0, -KEEP_RUNS)) {
  rmSync(join(resultsRoot, old), { recursive: true, force: true });
}

console.log(
  `\nresults: ${fullPath}${complete ? `\nsummary: ${latestPath}` : partial ? `\nsummary: ${latestPath} (its ${[analytics && "analytics", burst && "burst", cpuKept && "cpu"].filter(Boolean).join(" and ")} member only)` : " (partial run: bench/latest.json left as it was)"}`,
);
console.log(`total: ${elapsed()}`);
if (failure !== null) {
  console.error("\nbench failed:", failure);
  process.exit(1);
}
if (cpuFindings.length > 0) {
  console.error(`\nbench failed: part 9's guard:\n${cpuFindings.map((f) => `  ${f}`).join("\n")}`);
  process.exit(1);
}
process.exit(0);
