// Change detection's upstream cost per cron tick, inside workerd: the worker's own scheduled handler and detection
// queue consumer (src/index.ts) against the simulators, for a quiet tick, a burst of 1,000 new open items, and 1,000
// open items buried under 5,000 newer ones, then all completed. Calls are deterministic counts: the sum of
// `detection_checks.calls` over the checks a tick ran, cross-checked against the simulator's own counters and against
// the upstream requests the worker's fetch made, which also say what kind of read each call was.
//
// Bench-local on purpose: the tests' helpers (test/support/) read vitest `inject` keys and assertions of the test
// run; this drives the same entry points (createScheduledController, createMessageBatch) in a few lines of its own.
import {
  applyD1Migrations,
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  type D1Migration,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject, it } from "vitest";
import worker from "../../src";
import { createApp } from "../../src/app";
import { configOf } from "../../src/config";
import type { CheckMessage } from "../../src/detection/tick";
import type { DetectionFigures, SourceFigures, TickFigures } from "./figures";

const BURST = 1_000;
const DEPTH = 5_000;
/** Checks one tick may run (a tick that needs more is a finding, not a wait). */
const MAX_CHECKS_PER_TICK = 100;
/** The whole bench's time budget inside workerd; checked between ticks. */
const BUDGET_MS = 100_000;

interface BenchSource {
  name: string;
  source: string;
  provider: "inkit" | "8x8";
  sim: () => string;
  other: () => string;
  insert(count: number, status: string): Promise<string[]>;
  setStatus(ids: string[], status: string): Promise<void>;
  open: string;
  done: string;
}

const ORDER_NOTIFICATIONS = "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14";

async function admin<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/__admin${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const inkitUrl = () => inject("detectionInkitUrl");
const eightByEightUrl = () => inject("detectionEightByEightUrl");

const SOURCES: BenchSource[] = [
  {
    name: "inkit runs",
    source: "inkit:runs",
    provider: "inkit",
    sim: inkitUrl,
    other: eightByEightUrl,
    async insert(count, status) {
      const { items } = await admin<{ items: { id: string }[] }>(inkitUrl(), "POST", "/insert", {
        kind: "run",
        count,
        status,
      });
      return items.map((i) => i.id);
    },
    async setStatus(ids, status) {
      await admin(inkitUrl(), "POST", "/status", { ids, status });
    },
    open: "In Progress",
    done: "Completed",
  },
  {
    name: "8x8 orderNotifications",
    source: `8x8:acme-ops/${ORDER_NOTIFICATIONS}`,
    provider: "8x8",
    sim: eightByEightUrl,
    other: inkitUrl,
    async insert(count, status) {
      const { items } = await admin<{ items: { workflowId: string }[] }>(eightByEightUrl(), "POST", "/insert", {
        definitionId: ORDER_NOTIFICATIONS,
        count,
        status,
      });
      return items.map((i) => i.workflowId);
    },
    async setStatus(ids, status) {
      await admin(eightByEightUrl(), "POST", "/status", { workflowIds: ids, status });
    },
    open: "Runnable",
    done: "Complete",
  },
];

/** A Queue binding that keeps what is sent: the bench decides when the consumer runs. */
function recordingQueue<T>() {
  const pending: T[] = [];
  const record = (body: T) => pending.push(JSON.parse(JSON.stringify(body)) as T);
  const binding = {
    async send(body: T) {
      record(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<T>>) {
      for (const m of messages) record(m.body);
    },
    async metrics() {
      return { backlogCount: pending.length, backlogBytes: 0 };
    },
  } as unknown as Queue<T>;
  return { binding, take: () => pending.splice(0, pending.length) };
}

/** The worker's bindings with recording queues: deliveries are never sent, detection messages are run by `tick`. */
function benchEnv() {
  const detection = recordingQueue<CheckMessage>();
  const bindings = {
    ...env,
    WEBHOOK_QUEUE: recordingQueue().binding,
    WEBHOOK_DLQ: recordingQueue().binding,
    DETECTION_QUEUE: detection.binding,
  } as Env;
  return { env: bindings, detection };
}

type BenchEnv = ReturnType<typeof benchEnv>;

let messageSeq = 0;

/**
 * One cron tick, as production runs it: the scheduled handler, then each detection message in an invocation of its
 * own (the consumer's `max_batch_size = 1`), including the continuations checks send while a backlog remains.
 */
async function runTick(w: BenchEnv): Promise<number> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), w.env, ctx);
  await waitOnExecutionContext(ctx);
  let checks = 0;
  for (let round = w.detection.take(); round.length > 0; round = w.detection.take()) {
    for (const body of round) {
      if (++checks > MAX_CHECKS_PER_TICK) throw new Error(`detection still busy after ${MAX_CHECKS_PER_TICK} checks`);
      const id = `chk-${++messageSeq}`;
      const batch = createMessageBatch<CheckMessage>("tributary-detection", [
        { id, timestamp: new Date(), attempts: 1, body },
      ]);
      const qctx = createExecutionContext();
      await worker.queue(batch, w.env, qctx);
      const result = (await getQueueResult(batch, qctx)) as { explicitAcks: string[] };
      if (!result.explicitAcks.includes(id)) throw new Error(`check of ${body.source} was not acknowledged`);
    }
  }
  return checks;
}

interface CheckRow {
  version: number;
  calls: number;
  created: number;
  events: number;
  backlog: number;
  watched: number;
}

const checkRows = async (source: string, after: number) =>
  (
    await env.DB.prepare(
      "SELECT version, calls, created, events, backlog, watched FROM detection_checks WHERE source = ? AND version > ? ORDER BY version",
    )
      .bind(source, after)
      .all<CheckRow>()
  ).results;

const lastVersion = async (source: string) =>
  (
    await env.DB.prepare("SELECT MAX(version) AS v FROM detection_checks WHERE source = ?")
      .bind(source)
      .first<{ v: number | null }>()
  )?.v ?? 0;

/**
 * What kind of upstream read a request is, from its query: the walk of new items in creation order (and the
 * baseline's head), Inkit's `updated_at` scan and reads by `data_id`, 8x8's open-status lists and start-time windows.
 */
function kindOf(url: URL): string {
  const q = url.searchParams;
  if (q.has("data_id")) return "by id";
  if (q.get("sort") === "-updated_at") return "updated_at scan";
  if (q.has("status")) return "status lists";
  if (q.has("startTimeFrom") || q.has("startTimeTo")) return "time windows";
  return "creation order";
}

/** Upstream requests by kind while a tick runs: the worker calls the global fetch, so a pass-through sees them all. */
let recording: Record<string, number> | null = null;
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const upstream = [inkitUrl(), eightByEightUrl()].some((base) => url.href.startsWith(base));
  if (recording && upstream && !url.pathname.startsWith("/__admin")) {
    const kind = kindOf(url);
    recording[kind] = (recording[kind] ?? 0) + 1;
  }
  return realFetch(input, init);
}) as typeof fetch;

interface Counters {
  total: number;
  items: number;
  routes: Record<string, number>;
}

const mismatches: string[] = [];
let ticks = 0;

/** One tick of `src`, with its checks' figures and the simulators' counts of the same tick. */
async function tick(w: BenchEnv, src: BenchSource, label: string): Promise<TickFigures> {
  if (performance.now() - started > BUDGET_MS) throw new Error(`over the detection bench's ${BUDGET_MS} ms budget`);
  const before = await lastVersion(src.source);
  await Promise.all([admin(src.sim(), "DELETE", "/counters"), admin(src.other(), "DELETE", "/counters")]);
  const byKind: Record<string, number> = {};
  recording = byKind;
  const checks = await runTick(w).finally(() => {
    recording = null;
  });
  const [mine, other] = await Promise.all([
    admin<Counters>(src.sim(), "GET", "/counters"),
    admin<Counters>(src.other(), "GET", "/counters"),
  ]);
  const rows = await checkRows(src.source, before);
  const sum = (f: (r: CheckRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  const figures: TickFigures = {
    checks,
    committed: rows.length,
    calls: sum((r) => r.calls),
    simulatorCalls: mine.total,
    callsByKind: byKind,
    otherSimulatorCalls: other.total,
    simulatorRoutes: mine.routes,
    itemsFetched: mine.items,
    maxCheckCalls: Math.max(0, ...rows.map((r) => r.calls)),
    created: sum((r) => r.created),
    events: sum((r) => r.events),
    watched: rows.at(-1)?.watched ?? 0,
    backlogLeft: rows.at(-1)?.backlog === 1,
    callsPerCheck: rows.map((r) => r.calls),
  };
  ticks++;
  const seen = Object.values(byKind).reduce((a, n) => a + n, 0);
  if (figures.calls !== figures.simulatorCalls || figures.otherSimulatorCalls !== 0 || seen !== figures.calls)
    mismatches.push(
      `${src.source} ${label}: checks counted ${figures.calls}, its simulator ${figures.simulatorCalls}, the other ${figures.otherSimulatorCalls}, fetch ${seen}`,
    );
  return figures;
}

/** Distinct items of `ids` with a `run.completed` event recorded for the source so far. */
async function completedReported(source: string, ids: Set<string>): Promise<number> {
  const { results } = await env.DB.prepare(
    "SELECT DISTINCT object_id FROM events WHERE source = ? AND type = 'run.completed'",
  )
    .bind(source)
    .all<{ object_id: string }>();
  return results.filter((r) => ids.has(r.object_id)).length;
}

/** Empties every table of the webhook store (after applying the migrations): each source starts from nothing. */
async function resetStore(): Promise<void> {
  await applyD1Migrations(env.DB, (env as unknown as { BENCH_MIGRATIONS: D1Migration[] }).BENCH_MIGRATIONS);
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  ).all<{ name: string }>();
  await env.DB.batch(results.map((t) => env.DB.prepare(`DELETE FROM "${t.name}"`)));
}

const app = createApp();

/** A webhook endpoint watching only `source`, created through the API as a customer would. */
async function watch(w: BenchEnv, source: string): Promise<void> {
  const apiKey = env.API_KEYS.split(",")[0] ?? "";
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request("https://tributary.bench/v1/webhook-endpoints", {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: `${inject("detectionCollectorUrl")}/hook`, sources: [source] }),
    }),
    w.env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  if (res.status !== 201) throw new Error(`creating the endpoint: ${res.status} ${await res.text()}`);
}

async function measureSource(src: BenchSource): Promise<SourceFigures> {
  await resetStore();
  await Promise.all([admin(inkitUrl(), "POST", "/reset"), admin(eightByEightUrl(), "POST", "/reset")]);
  const w = benchEnv();
  await watch(w, src.source);

  const baseline = await tick(w, src, "baseline");
  const quiet = await tick(w, src, "quiet");

  const open = await src.insert(BURST, src.open);
  const burst = await tick(w, src, "burst");

  await src.insert(DEPTH, src.done);
  const bury = await tick(w, src, "bury");
  const quietAtDepth = await tick(w, src, "quiet at depth");

  const ids = new Set(open);
  const reportedBefore = await completedReported(src.source, ids);
  await src.setStatus(open, src.done);
  const completion = await tick(w, src, "completion");
  const reportedInTick = (await completedReported(src.source, ids)) - reportedBefore;
  const after = await tick(w, src, "after completion");
  const reportedAfter = (await completedReported(src.source, ids)) - reportedBefore - reportedInTick;

  const all = [baseline, quiet, burst, bury, quietAtDepth, completion, after];
  const maxCheckCalls = Math.max(...all.map((t) => t.maxCheckCalls));
  return {
    name: src.name,
    source: src.source,
    provider: src.provider,
    baseline,
    quiet,
    burst: {
      ...burst,
      inserted: BURST,
      callsPer100Announced: burst.created > 0 ? Math.round((burst.calls / burst.created) * 100 * 100) / 100 : 0,
    },
    bury: { ...bury, inserted: DEPTH },
    quietAtDepth,
    completion: {
      ...completion,
      completed: open.length,
      completedReported: reportedInTick,
      allReportedInTick: reportedInTick === open.length,
    },
    afterCompletion: { ...after, completedReported: reportedAfter },
    maxCheckCalls,
    checkCallsExceeded: maxCheckCalls > configOf(env).webhookCheckCalls,
  };
}

let started = 0;

it("change detection: upstream calls per tick", async () => {
  started = performance.now();
  const sources: SourceFigures[] = [];
  for (const src of SOURCES) sources.push(await measureSource(src));
  const config = configOf(env);
  const settings = await admin<{ page_size_cap: number | null }>(inkitUrl(), "GET", "/settings");
  const figures: DetectionFigures = {
    config: {
      webhookCheckCalls: config.webhookCheckCalls,
      webhookCheckItems: config.webhookCheckItems,
      inkitPageSizeCap: settings.page_size_cap,
    },
    sources,
    crossCheck: { ticks, mismatches, match: mismatches.length === 0 },
  };
  const res = await fetch(`${inject("detectionCollectorUrl")}/results`, {
    method: "POST",
    body: JSON.stringify(figures),
  });
  if (!res.ok) throw new Error(`posting the figures: ${res.status}`);
});
