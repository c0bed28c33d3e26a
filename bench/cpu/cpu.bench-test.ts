// CPU per invocation inside workerd: whole requests through the worker's own `fetch` handler (src/index.ts), with
// every upstream answered from memory inside the isolate (recorded once from the simulators), beside a bare Hono app in
// the same isolate that answers the same bytes. See bench/README.md, part 9.
//
// Timing: each sample is a batch of k invocations (k sized so a batch takes ~20 ms), bracketed by two reads of the
// workerd process's CPU time (bench/cpu/setup.ts, Linux schedstat, ns); per-invocation CPU = (after − before − the
// bracket's median cost) / k. The isolate's own clock (performance.now(), 1 ms steps, advancing during CPU work in
// local workerd: checked and recorded, as part 2 does) times the same batch as wall time. The worker's batches and
// the control's alternate, so a slow spell of the machine hits both alike. Median and p99 are over batches.
import {
  applyD1Migrations,
  createExecutionContext,
  createMessageBatch,
  type D1Migration,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { inject, it } from "vitest";
import { EIGHT_BY_EIGHT_DEFINITION_IDS } from "../../simulator/credentials";
import worker from "../../src";
import { forgetCacheMemory } from "../../src/cache/request-cache";
import { configOf } from "../../src/config";
import { DETECTION_QUEUE_NAME } from "../../src/detection/tick";
import type { DeliveryMessage } from "../../src/events/outbox";
import { recordStages, type Stage, type StageRecorder, staged } from "../../src/observability/stages";
import type { CpuFigures, CpuRow, Spread, StorageSplit } from "./figures";
import {
  d1ClientShim,
  insertOnlyUndo,
  replay,
  StorageRecorder,
  type StorageTrace,
  storageCounts,
  tablesWritten,
} from "./storage";

const SAMPLE_MS = 20;
const MAX_BATCHES = 40;
const MIN_BATCHES = 8;
/** Per request type, for its batches and its control's. */
const TYPE_BUDGET_MS = 6_000;
const WARMUP = 20;
const API_KEY = "trib_demo_key_0123456789abcdef";
/** The paid plan's room for the 100-source feed's first page, which reads every source once (as part 6). */
const ROOMY_SUBREQUEST_LIMIT = "1000";
const FEED_SOURCES = 100;
const STAGE_INVOCATIONS = 2_000;
const STAGE_BUDGET_MS = 2_500;
const GRANT_PROBES = 200;

const realFetch = globalThis.fetch;

// What the runtime does with a log line (hand it to the test runner here, to Workers Logs in production) is not the
// worker's CPU: the line is built as in production, then dropped.
let linesLogged = 0;
for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  console[level] = () => {
    linesLogged++;
  };
}

/**
 * KV from memory inside the isolate, as the upstreams are: KV's own work is not the worker's CPU, and local KV's (a
 * SQLite store in the same process) would be counted with it. Values are kept as the strings KV would hold, so the
 * worker still serializes and parses them.
 */
function memoryKv(): KVNamespace {
  const values = new Map<string, string>();
  const kv = {
    async get(key: string, type?: string | { type?: string }) {
      const value = values.get(key) ?? null;
      const as = typeof type === "string" ? type : type?.type;
      return value !== null && as === "json" ? JSON.parse(value) : value;
    },
    async put(key: string, value: string) {
      values.set(key, String(value));
    },
    async delete(key: string) {
      values.delete(key);
    },
  };
  return kv as unknown as KVNamespace;
}

/** The rate limiter's binding, always allowing: a call to it is I/O in production, not the worker's CPU. */
const allowAll = { limit: async () => ({ success: true }) } as unknown as RateLimit;

/**
 * Self time per stage (src/observability/stages.ts): the time between two stage events goes to the innermost stage
 * open then; what no stage claims is "other" (routing, request validation, the route's own code). The isolate's clock
 * steps in whole ms, so one invocation's split is coarse; summed over hundreds, the shares are not.
 */
class SelfTime implements StageRecorder {
  readonly totals = new Map<Stage, number>();
  private stack: Stage[] = ["other"];
  private last = performance.now();
  private charge() {
    const now = performance.now();
    const top = this.stack.at(-1) ?? "other";
    this.totals.set(top, (this.totals.get(top) ?? 0) + (now - this.last));
    this.last = now;
  }
  start() {
    this.stack = ["other"];
    this.last = performance.now();
  }
  end() {
    this.charge();
  }
  enter(stage: Stage) {
    this.charge();
    this.stack.push(stage);
  }
  exit(stage: Stage) {
    this.charge();
    const at = this.stack.lastIndexOf(stage);
    if (at > 0) this.stack.splice(at, 1);
  }
}

/**
 * Stage shares of a request type: invocations with the recorder installed, apart from the timed batches (`after`, an
 * undo step between invocations, is not recorded).
 */
async function stageShares(op: () => Promise<void>, after?: () => Promise<void>): Promise<Record<string, number>> {
  const self = new SelfTime();
  recordStages(self);
  try {
    const started = performance.now();
    for (let i = 0; i < STAGE_INVOCATIONS && performance.now() - started < STAGE_BUDGET_MS; i++) {
      self.start();
      await op();
      self.end();
      await after?.();
    }
  } finally {
    recordStages(null);
  }
  const sum = [...self.totals.values()].reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    [...self.totals].filter(([, ms]) => ms > 0).map(([stage, ms]) => [stage, Math.round((ms / sum) * 1000) / 1000]),
  );
}
const collector = () => inject("cpuCollectorUrl");
const sims = () => [inject("cpuInkitUrl"), inject("cpuEightByEightUrl")];

// Upstream answers from memory: the first GET of a URL goes to the simulator and is kept; every later one is answered
// from what was kept, so a measured invocation spends no time on sockets or in the simulators.
interface Kept {
  status: number;
  headers: [string, string][];
  body: string;
  items: number;
}
const kept = new Map<string, Kept>();
/** Upstream URLs asked since the last `take`, in order. */
let asked: string[] = [];

function itemsIn(body: string): number {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (Array.isArray(parsed)) return parsed.length;
    const items = (parsed as { items?: unknown }).items;
    return Array.isArray(items) ? items.length : 0;
  } catch {
    return 0;
  }
}

/** The webhook endpoint of the delivery rows: answered from memory inside the isolate, as the upstreams are. */
const HOOK = "https://hooks.bench.example/hook";
let hooksReceived = 0;

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (href === HOOK) {
    hooksReceived++;
    return new Response(null, { status: 204 });
  }
  const request = new Request(input, init);
  const upstream = sims().some((s) => request.url.startsWith(s)) && !request.url.includes("/__admin");
  if (!upstream || request.method !== "GET") return realFetch(request);
  asked.push(request.url);
  let answer = kept.get(request.url);
  if (!answer) {
    const res = await realFetch(request);
    const body = await res.text();
    answer = { status: res.status, headers: [...res.headers], body, items: itemsIn(body) };
    kept.set(request.url, answer);
  }
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
};

function take(): string[] {
  const urls = asked;
  asked = [];
  return urls;
}

async function cpuNowNs(): Promise<number> {
  const res = await realFetch(`${collector()}/cpu`);
  const ns = Number(await res.text());
  if (!(ns >= 0)) throw new Error("the workerd process's CPU time cannot be read (bench/cpu/setup.ts)");
  return ns;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
const round = (v: number) => Math.round(v * 1000) / 1000;
function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { medianMs: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)) };
}

/** Whether performance.now() moves during pure CPU work here (it does in local workerd; not in production). */
function clockAdvancesDuringCpu(): { advances: boolean; busyMs: number } {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 30_000_000; i++) x = (x + i) % 1_000_003;
  const busyMs = performance.now() - t0;
  return { advances: busyMs > 0 && x >= 0, busyMs };
}

let bracketCpuMs = 0;
let bracketWallMs = 0;

/** One batch of k invocations: its CPU and wall time, bracket cost subtracted. */
async function batch(op: () => Promise<void>, k: number): Promise<{ cpu: number; wall: number }> {
  const c0 = await cpuNowNs();
  const t0 = performance.now();
  for (let i = 0; i < k; i++) await op();
  const t1 = performance.now();
  const c1 = await cpuNowNs();
  return { cpu: (c1 - c0) / 1e6 - bracketCpuMs, wall: t1 - t0 - bracketWallMs };
}

/** k such that a batch takes about SAMPLE_MS (at least 1). */
async function calibrate(op: () => Promise<void>): Promise<number> {
  let k = 1;
  while (k < 4096) {
    const { cpu } = await batch(op, k);
    if (cpu >= SAMPLE_MS) break;
    k *= 2;
  }
  return k;
}

/**
 * The worker's answer to one request, as a client reads it. Its background work (waitUntil) runs on, unawaited: a
 * KV write runs at once (KV answers from memory), while one to a key written less than a second ago waits for the
 * second to end (src/cache/request-cache.ts), and lands in a later batch, as under steady traffic. Awaiting it
 * would put a second of the process's idle CPU into every invocation.
 */
async function invoke(request: Request, bindings: Env, settle = false): Promise<Response & { text: string }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, bindings, ctx);
  const text = await res.text();
  if (settle) await waitOnExecutionContext(ctx);
  return Object.assign(res, { text });
}

/** D1 with every statement's run marked as the "storage" stage (its wait is I/O, not the worker's CPU). */
function stagedD1(db: D1Database): D1Database {
  const statement = (s: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(s, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== "function") return value;
        if (name === "bind") return (...args: unknown[]) => statement(value.apply(target, args));
        if (name === "first" || name === "all" || name === "run" || name === "raw")
          return (...args: unknown[]) => staged("storage", () => value.apply(target, args));
        return value.bind(target);
      },
    });
  return new Proxy(db, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      if (name === "prepare") return (sql: string) => statement(value.call(target, sql));
      if (name === "batch")
        return (statements: D1PreparedStatement[]) => staged("storage", () => value.call(target, statements));
      return value.bind(target);
    },
  });
}

interface RequestType {
  id: string;
  name: string;
  request: () => Request;
  bindings?: Env;
  /** Runs before every invocation, inside the batch; its own cost is measured alone and subtracted. */
  before?: () => void;
  /** The control reads the same bytes from KV instead of answering them from memory. */
  controlFromKv?: boolean;
  /** The control answers the same bytes without reading the upstream (a cached answer). */
  cached?: boolean;
  note?: string;
  /** Measured at a paid plan's settings (its CPU limit is 30 s by default), not the free plan's defaults. */
  paid?: boolean;
}

/** CPU per invocation: the free plan's limit, and the paid plan's default. */
const FREE_PLAN_CPU_MS = 10;
const PAID_PLAN_CPU_MS = 30_000;

const control = new Hono<{ Bindings: Env }>();
/** Per request type: what the control answers, and the upstream URLs it reads first. */
interface ControlSpec {
  body: string;
  /** The headers the worker answered with (Content-Length aside): the control sends the same. */
  headers: Record<string, string>;
  upstream: string[];
  fromKv: boolean;
}
const controlSpecs = new Map<string, ControlSpec>();
// The control answers the same bytes as the worker: the same headers (security headers, ETag, Cache-Control, the
// request id it was given, ...) and the same body, or the same upstream bodies re-serialized.
control.get("/control/:id", async (c) => {
  const spec = controlSpecs.get(c.req.param("id"));
  if (!spec) return c.notFound();
  if (spec.fromKv) {
    const body = await c.env.CACHE.get(`bench-control:${c.req.param("id")}`);
    return c.body(body ?? "", 200, spec.headers);
  }
  if (spec.upstream.length === 0) return c.body(spec.body, 200, spec.headers);
  // The same upstream bodies, fetched (from memory, as the worker's are) and re-serialized.
  const bodies = await Promise.all(spec.upstream.map(async (url) => (await fetch(url)).json()));
  return c.json(bodies.length === 1 ? bodies[0] : bodies, 200, spec.headers);
});

/** A response's headers as the control sends them: all but Content-Length (the runtime sets it). */
const answered = (res: Response): Record<string, string> =>
  Object.fromEntries([...res.headers].filter(([name]) => name.toLowerCase() !== "content-length"));

async function invokeControl(id: string): Promise<void> {
  const res = await control.fetch(
    new Request(`http://bench.local/control/${id}`),
    defaultBindings,
    createExecutionContext(),
  );
  if (res.status !== 200) throw new Error(`control ${id}: ${res.status}`);
  await res.text();
}

let defaultBindings = env;

/** Records the storage calls of reference invocations (bench/cpu/storage.ts); idle during measured batches. */
const recorder = new StorageRecorder();

async function measureType(t: RequestType): Promise<CpuRow> {
  const bindings = t.bindings ?? defaultBindings;
  // A first invocation fills the upstream answers this request type asks for (from the simulators, over loopback).
  await invoke(t.request(), bindings, true);
  take();
  const reference = await invoke(t.request(), bindings, true);
  const status = reference.status;
  // Warm up (and keep every upstream answer this request type asks for), then take one clean invocation's calls.
  for (let i = 0; i < WARMUP; i++) {
    t.before?.();
    await invoke(t.request(), bindings);
  }
  take();
  t.before?.();
  const sample = await invoke(t.request(), bindings);
  const urls = take();
  if (sample.status !== status) throw new Error(`${t.id}: ${sample.status} after ${status}`);
  const itemsServed = itemsServedBy(urls);
  let itemsReturned: number | null = null;
  try {
    const data = (JSON.parse(sample.text) as { data?: unknown }).data;
    if (Array.isArray(data)) itemsReturned = data.length;
  } catch {
    // Not JSON: no items.
  }
  if (t.controlFromKv) await defaultBindings.CACHE.put(`bench-control:${t.id}`, sample.text);
  controlSpecs.set(t.id, {
    body: sample.text,
    headers: answered(sample),
    upstream: t.cached ? [] : [...new Set(urls)],
    fromKv: t.controlFromKv === true,
  });

  const ours = async () => {
    t.before?.();
    const res = await invoke(t.request(), bindings);
    if (res.status !== status) throw new Error(`${t.id}: ${res.status}, expected ${status}`);
  };
  const theirs = () => invokeControl(t.id);
  for (let i = 0; i < WARMUP; i++) await theirs();
  const k = await calibrate(ours);
  const kc = await calibrate(theirs);
  // The `before` step alone, per invocation, to subtract.
  let beforeCpu = 0;
  let beforeWall = 0;
  if (t.before) {
    const before = t.before;
    const alone = await batch(async () => before(), k);
    beforeCpu = Math.max(0, alone.cpu / k);
    beforeWall = Math.max(0, alone.wall / k);
  }
  // Storage recorded over as many invocations as a batch holds (an object round trip can serve several).
  const plan = await planSplit(
    t.id,
    bindings,
    async (b) => {
      t.before?.();
      const res = await invoke(t.request(), b);
      if (res.status !== status) throw new Error(`${t.id}: ${res.status}, expected ${status} (recording storage)`);
    },
    k,
  );
  const measured = await measureSplit(
    { op: ours, calls: k, subtract: { cpu: beforeCpu, wall: beforeWall } },
    { op: theirs, calls: kc },
    plan,
  );
  const row: CpuRow = {
    id: t.id,
    name: t.name,
    handler: "fetch",
    control: t.controlFromKv
      ? "the same bytes read from KV"
      : t.cached
        ? "the same bytes from memory"
        : urls.length === 0
          ? "the same bytes"
          : `the same ${new Set(urls).size} upstream bod${new Set(urls).size === 1 ? "y" : "ies"}, fetched and re-serialized`,
    status,
    upstreamCalls: urls.length,
    itemsServed,
    itemsReturned,
    responseBytes: sample.text.length,
    ...measuredFields(measured, k, kc),
    stages: await stageShares(ours),
    limitMs: t.paid ? PAID_PLAN_CPU_MS : FREE_PLAN_CPU_MS,
    ...(t.note ? { note: t.note } : {}),
  };
  return row;
}

/** A Queue binding that keeps what is sent in memory: the bench decides what a consumer runs. */
function memoryQueue<T>() {
  const pending: T[] = [];
  const record = (body: T) => pending.push(JSON.parse(JSON.stringify(body)) as T);
  const binding = {
    async send(body: T) {
      record(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<T>>) {
      for (const m of messages) record(m.body);
    },
  } as unknown as Queue<T>;
  return { binding, take: () => pending.splice(0, pending.length) };
}

let messageSeq = 0;

/** One invocation of the worker's `queue` handler with `bodies` as one batch; throws unless every message is acked. */
async function invokeQueue(queue: string, bodies: unknown[], bindings: Env, check = false): Promise<void> {
  const batch = createMessageBatch(
    queue,
    bodies.map((body) => ({ id: `msg-${++messageSeq}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  if (!check) return;
  const result = (await getQueueResult(batch, ctx)) as { explicitAcks: string[]; retryMessages: unknown[] };
  if (result.explicitAcks.length !== bodies.length || result.retryMessages.length > 0)
    throw new Error(`${queue}: ${result.explicitAcks.length} of ${bodies.length} acknowledged`);
}

/**
 * A request type through the `queue` handler. Each invocation changes stored state (a check moves its frontier, a
 * delivery is marked delivered), so `undo` puts it back after every one; undo's own CPU, measured right after real
 * invocations (so it undoes as much as it does in the batches), is subtracted.
 */
interface QueueType {
  id: string;
  name: string;
  /** One invocation, on `bindings` (the type's own when left out). */
  run: (bindings?: Env) => Promise<void>;
  undo: () => Promise<void>;
  control: () => Promise<void>;
  controlName: string;
  /** What one reference invocation did (checked against `expect`), for the row. */
  outcome: () => Promise<{ done: number; expect: number; itemsReturned: number | null }>;
  note?: string;
  /** The bindings `run` uses. */
  bindings: Env;
}

/** One thing the interleaved loop measures: `calls` calls of `op` a batch, each `per` invocations. */
interface Measured {
  op: () => Promise<void>;
  calls: number;
  per?: number;
  /** CPU and wall time per invocation taken off each batch's (a step measured alone, such as an undo). */
  subtract?: { cpu: number; wall: number };
}

/**
 * Per-invocation CPU and wall time of each of `ops` (the worker's, the control's, the storage replays'), in batches
 * that take turns until the type's budget is spent: the order rotates each round, so none always follows another.
 */
async function interleaved(ops: Measured[]): Promise<{ cpu: number[]; wall: number[] }[]> {
  const out = ops.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
  const rounds = () => out[0]?.cpu.length ?? 0;
  const started = performance.now();
  while (rounds() < MAX_BATCHES && (rounds() < MIN_BATCHES || performance.now() - started < TYPE_BUDGET_MS)) {
    const round = rounds();
    for (let j = 0; j < ops.length; j++) {
      const i = (j + round) % ops.length;
      const m = ops[i];
      const into = out[i];
      if (!m || !into) continue;
      const b = await batch(m.op, m.calls);
      const n = m.calls * (m.per ?? 1);
      into.cpu.push(Math.max(0, b.cpu / n - (m.subtract?.cpu ?? 0)));
      into.wall.push(Math.max(0, b.wall / n - (m.subtract?.wall ?? 0)));
    }
  }
  return out;
}

/**
 * How the storage split of a request type is measured: its storage calls recorded over `invocations` reference
 * invocations (proxies around the bindings, never during measured batches), a replay of them by the bench itself
 * from the same starting state, and the same D1 calls through D1's client on a transport answering from memory.
 */
interface SplitPlan {
  counts: ReturnType<typeof storageCounts>;
  invocations: number;
  /** Every recorded invocation's calls once, each followed by the undo (null: no storage calls). */
  replay: (() => Promise<void>) | null;
  /** The D1 calls of every recorded invocation through the client shim alone (null: no D1, or not measurable). */
  shim: (() => Promise<void>) | null;
  /** CPU and wall time of one undo, per replayed invocation. */
  undo: { cpu: number; wall: number };
  undoKind: string;
}

/**
 * Records a request type's storage calls and prepares their replay. `once` runs one invocation on the bindings it is
 * given; `undo` (queue types) puts stored state back after each, and `undoCost` is its CPU measured after the worker's
 * invocations: a replay leaves the same state (checked), so the same undo costs the same, and the same figure is
 * subtracted from both (it cancels out of the isolate figure). A type without an undo whose invocations add rows (the
 * keyed POST) gets one here: the rows its recorded invocations added are deleted by key after each replay, that
 * undo's CPU measured after replays.
 */
async function planSplit(
  id: string,
  bindings: Env,
  once: (b: Env) => Promise<void>,
  invocations: number,
  undo?: () => Promise<void>,
  undoCost?: { cpu: number; wall: number },
): Promise<SplitPlan> {
  const wrapped = recorder.wrap(bindings);
  // Per-binding state (the migrations seen by this D1 object) is filled outside the recording.
  await once(wrapped);
  await undo?.();
  // What the first recorded invocation left in the tables it wrote, for a type with an undo: its replay must leave
  // the same.
  let left: { tables: string[]; rows: string } | null = null;
  const record = async (): Promise<StorageTrace> => {
    const traces: StorageTrace = [];
    for (let i = 0; i < invocations; i++) {
      recorder.start();
      try {
        await once(wrapped);
      } finally {
        traces.push(recorder.stop());
      }
      if (undo && i === 0) {
        const tables = tablesWritten(traces);
        left = { tables, rows: await tableRows(tables) };
      }
      await undo?.();
    }
    return traces;
  };
  let traces = await record();
  let undoStep = undo;
  let undoKind = undo ? "the type's own undo (tables put back from a copy)" : "none (nothing written)";
  const written = tablesWritten(traces);
  if (!undo && written.length > 0) {
    // Again, with the tables it writes marked first: the rows its invocations add are found by key.
    const mark = await insertOnlyUndo(env.DB, written);
    traces = await record();
    const rows = await mark();
    // The recorded invocations' own rows go first, so the first replay adds them again from the same state.
    await rows.undo();
    undoStep = rows.undo;
    undoKind = `the ${rows.rowsAdded} rows the replay adds (${written.join(", ")}) deleted by key`;
  }
  const counts = storageCounts(traces);
  const calls = traces.flat();
  if (calls.length === 0)
    return { counts, invocations, replay: null, shim: null, undo: { cpu: 0, wall: 0 }, undoKind: "none" };
  const db = bindings.DB;
  const replayAll = async () => {
    for (const trace of traces) {
      await replay(trace, db, bindings);
      await undoStep?.();
    }
  };
  // One replay through a D1 client that keeps the database's answers: the shim's replay hands them back.
  const shim = calls.some((c) => c.kind === "d1") ? d1ClientShim(env.DB) : null;
  for (const [i, trace] of traces.entries()) {
    await replay(trace, shim?.capture ?? db, bindings);
    const expected = left as { tables: string[]; rows: string } | null;
    if (i === 0 && expected && (await tableRows(expected.tables)) !== expected.rows)
      throw new Error(`${id}: the storage replay left ${expected.tables.join(", ")} unlike the worker's invocation`);
    await undoStep?.();
  }
  let undoCpu = undoCost ?? { cpu: 0, wall: 0 };
  if (undoStep && !undoCost) {
    const step = undoStep;
    const first = traces[0] ?? [];
    const costs: { cpu: number; wall: number }[] = [];
    for (let i = 0; i < 8; i++) {
      await replay(first, db, bindings);
      costs.push(await batch(step, 1));
    }
    undoCpu = {
      cpu: spread(costs.map((c) => c.cpu)).medianMs,
      wall: spread(costs.map((c) => c.wall)).medianMs,
    };
  }
  if (shim && shim.captured() === 0) throw new Error(`${id}: the D1 client shim captured no answer`);
  return {
    counts,
    invocations,
    replay: replayAll,
    shim: shim
      ? async () => {
          shim.rewind();
          for (const trace of traces) await replay(trace, shim.fromMemory, bindings, true);
        }
      : null,
    undo: undoCpu,
    undoKind,
  };
}

/** Every row of `tables`, in order, as one string: what a replay must leave as the worker's invocation did. */
async function tableRows(tables: string[]): Promise<string> {
  const all: unknown[] = [];
  for (const t of tables) all.push((await env.DB.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()).results);
  return JSON.stringify(all);
}

/**
 * Measures the worker (`ours`, its batches of `k`), its control and the storage replays interleaved, and returns the
 * row's spreads: total, control, storage replay, D1 client shim, and isolate (total − replay + shim, batch by batch
 * of the same round).
 */
async function measureSplit(
  ours: Measured,
  control: Measured,
  plan: SplitPlan,
): Promise<{
  isolate: number[];
  cpu: number[];
  wall: number[];
  controlCpu: number[];
  controlWall: number[];
  storage: StorageSplit;
}> {
  const ops: Measured[] = [ours, control];
  const per = plan.invocations;
  const replayAt = plan.replay
    ? ops.push({ op: plan.replay, calls: await calibrate(plan.replay), per, subtract: plan.undo }) - 1
    : -1;
  const shimAt = plan.shim ? ops.push({ op: plan.shim, calls: await calibrate(plan.shim), per }) - 1 : -1;
  const out = await interleaved(ops);
  const [mine, theirs] = out;
  const cpu = mine?.cpu ?? [];
  const replayCpu = out[replayAt]?.cpu ?? cpu.map(() => 0);
  const shimCpu = out[shimAt]?.cpu ?? cpu.map(() => 0);
  const isolate = cpu.map((c, i) => Math.max(0, c - (replayCpu[i] ?? 0) + (shimCpu[i] ?? 0)));
  return {
    isolate,
    cpu,
    wall: mine?.wall ?? [],
    controlCpu: theirs?.cpu ?? [],
    controlWall: theirs?.wall ?? [],
    storage: {
      ...plan.counts,
      replayPerBatch: replayAt >= 0 ? (ops[replayAt]?.calls ?? 0) : 0,
      shimPerBatch: shimAt >= 0 ? (ops[shimAt]?.calls ?? 0) : 0,
      undo: plan.undoKind,
      undoCpuMs: round(plan.undo.cpu),
      replayCpu: spread(replayCpu),
      // 0 without D1 calls; null only where D1 was called and its client could not be measured apart.
      shimCpu: plan.shim || plan.counts.d1RoundTrips === 0 ? spread(shimCpu) : null,
    },
  };
}

/**
 * What a row takes from its measured rounds, fetch or queue alike: batch sizes, spreads, the storage split, and the
 * ratios to the control of the total and of the isolate's figure (total − storage replay + D1 client shim).
 */
function measuredFields(m: Awaited<ReturnType<typeof measureSplit>>, k: number, kc: number) {
  const cpu = spread(m.cpu);
  const controlCpu = spread(m.controlCpu);
  const isolateCpu = spread(m.isolate);
  const toControl = (ms: number) => round(ms / Math.max(controlCpu.medianMs, 0.001));
  return {
    perBatch: k,
    controlPerBatch: kc,
    batches: m.cpu.length,
    cpu,
    controlCpu,
    wall: spread(m.wall),
    controlWall: spread(m.controlWall),
    ratio: toControl(cpu.medianMs),
    storage: m.storage,
    isolateCpu,
    isolateRatio: toControl(isolateCpu.medianMs),
  };
}

/** Items the upstream bodies behind `urls` held (as kept). */
const itemsServedBy = (urls: string[]) => urls.reduce((n, url) => n + (kept.get(url)?.items ?? 0), 0);

async function measureQueueType(t: QueueType): Promise<CpuRow> {
  take();
  await t.run();
  const urls = take();
  const outcome = await t.outcome();
  if (outcome.done !== outcome.expect)
    throw new Error(
      `${t.id}: did ${outcome.done}, expected ${outcome.expect} (${urls.length} upstream calls); checks: ${JSON.stringify((await env.DB.prepare("SELECT version, calls, created, events, backlog FROM detection_checks").all()).results)}`,
    );
  await t.undo();
  for (let i = 0; i < WARMUP / 4; i++) {
    await t.run();
    await t.undo();
    await t.control();
  }
  const undoCpu: number[] = [];
  const undoWall: number[] = [];
  for (let i = 0; i < 8; i++) {
    await t.run();
    const u = await batch(t.undo, 1);
    undoCpu.push(u.cpu);
    undoWall.push(u.wall);
  }
  const undoCpuMs = spread(undoCpu).medianMs;
  const undoWallMs = spread(undoWall).medianMs;
  const ours = async () => {
    await t.run();
    await t.undo();
  };
  const k = await calibrate(ours);
  const kc = await calibrate(t.control);
  const plan = await planSplit(t.id, t.bindings, (b) => t.run(b), k, t.undo, { cpu: undoCpuMs, wall: undoWallMs });
  const measured = await measureSplit(
    { op: ours, calls: k, subtract: { cpu: undoCpuMs, wall: undoWallMs } },
    { op: t.control, calls: kc },
    plan,
  );
  // The replays left the worker's own outcome as it was (an object's state, such as a pacer's slots, included).
  await t.outcome(); // what the measured batches did, read and forgotten
  await t.run();
  const still = await t.outcome();
  await t.undo();
  if (still.done !== still.expect)
    throw new Error(`${t.id}: after the storage replays, did ${still.done}, expected ${still.expect}`);
  const row: CpuRow = {
    id: t.id,
    name: t.name,
    handler: "queue",
    control: t.controlName,
    status: 200,
    upstreamCalls: urls.length,
    itemsServed: itemsServedBy(urls),
    itemsReturned: outcome.itemsReturned,
    responseBytes: 0,
    ...measuredFields(measured, k, kc),
    stages: await stageShares(() => t.run(), t.undo),
    limitMs: FREE_PLAN_CPU_MS,
    note: `${t.note ? `${t.note}; ` : ""}undo after each invocation: ${undoCpuMs} ms CPU, subtracted`,
  };
  return row;
}

/**
 * Copies of `tables` as they are now, and the statements that put them back (D1 as the worker sees it: every table a
 * check or a delivery writes).
 */
async function snapshot(db: D1Database, name: string, tables: string[]): Promise<() => Promise<void>> {
  await db.batch(
    tables.flatMap((t) => [
      db.prepare(`DROP TABLE IF EXISTS "bench_snap_${name}_${t}"`),
      db.prepare(`CREATE TABLE "bench_snap_${name}_${t}" AS SELECT * FROM "${t}"`),
    ]),
  );
  const restore = tables.flatMap((t) => [
    db.prepare(`DELETE FROM "${t}"`),
    db.prepare(`INSERT INTO "${t}" SELECT * FROM "bench_snap_${name}_${t}"`),
  ]);
  return async () => {
    await db.batch(restore);
  };
}

/** HMAC-SHA256 of `payload`, base64: the least a signed delivery does (the control's). */
async function sign(secret: Uint8Array, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload)));
  return btoa(String.fromCharCode(...mac));
}

/**
 * The backlog a detection check meets. One check takes its item budget of it (WEBHOOK_CHECK_ITEMS, 200 by default)
 * and sends its source on at once for the rest: the row is that first check. `BENCH_CHECK_BACKLOG` measures another
 * backlog, `BENCH_CHECK_OPEN` has that many open runs watched before it (announced by checks of their own), and
 * `BENCH_CHECK_SOURCE=8x8` watches an 8x8 definition instead of Inkit's runs; the row's id then says so (`check-450`,
 * `check-500-open-1000`, `8x8-check-500`), so no recorded ratio is held against it. `BENCH_CHECK_BASELINE=1` measures
 * the source's first check instead, with `BENCH_CHECK_OPEN` open items there before it (`8x8-baseline-open-1500`).
 */
const benchOption = (name: string, fallback: number) =>
  Number((env as unknown as Record<string, string | undefined>)[name] || fallback);
const BACKLOG = benchOption("BENCH_CHECK_BACKLOG", 500);
const OPEN_BEFORE = benchOption("BENCH_CHECK_OPEN", 0);
const ON_8X8 = (env as unknown as Record<string, string | undefined>).BENCH_CHECK_SOURCE === "8x8";
const BASELINE = (env as unknown as Record<string, string | undefined>).BENCH_CHECK_BASELINE === "1";
const CHECK_ID = `${ON_8X8 ? "8x8-" : ""}${BASELINE ? "baseline" : `check-${BACKLOG}`}${OPEN_BEFORE > 0 ? `-open-${OPEN_BEFORE}` : ""}`;
const DELIVERY_BATCH = 10;
const CHECKED_DEFINITION = EIGHT_BY_EIGHT_DEFINITION_IDS.demo.appointmentReminders;
const WATCHED = ON_8X8 ? `8x8:acme-ops/${CHECKED_DEFINITION}` : "inkit:runs";
/** Open items inserted upstream for the check: Inkit runs, or instances of the 8x8 definition watched. */
const insertOpen = (count: number) =>
  ON_8X8
    ? admin(inject("cpuEightByEightUrl"), "POST", "/insert", {
        definitionId: CHECKED_DEFINITION,
        count,
        status: "Runnable",
      })
    : admin(inject("cpuInkitUrl"), "POST", "/insert", { kind: "run", count, status: "In Progress" });
/** Every table a check or a delivery writes (a run that writes any other fails the bench). */
const WRITTEN = [
  "detection_state",
  "detection_checks",
  "watched_items",
  "events",
  "deliveries",
  "delivery_attempts",
  "event_sequences",
  "event_stream",
];

async function rowCounts(db: D1Database): Promise<Map<string, number>> {
  const { results } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'bench_snap_%'",
    )
    .all<{ name: string }>();
  const counts = new Map<string, number>();
  for (const { name } of results)
    counts.set(name, (await db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).first<{ n: number }>())?.n ?? 0);
  return counts;
}

/**
 * A detection check with a backlog of 500 (one message through the `queue` handler, as the consumer's batch of 1
 * runs it) and a delivery batch of 10 (ten messages the check queued, to an endpoint answered from memory).
 */
async function queueTypes(bench: Env, ids: string[]): Promise<QueueType[]> {
  const checks = memoryQueue<{ source: string }>();
  const hooks = memoryQueue<DeliveryMessage>();
  const q = {
    ...bench,
    DETECTION_QUEUE: checks.binding,
    WEBHOOK_QUEUE: hooks.binding,
    WEBHOOK_DLQ: memoryQueue().binding,
  } as Env;
  const perCheck = Math.min(BACKLOG, configOf(q).webhookCheckItems);
  const db = env.DB;
  const created = await invoke(
    authorized(
      "/v1/webhook-endpoints",
      { "Content-Type": "application/json" },
      { method: "POST", body: JSON.stringify({ url: HOOK, sources: [WATCHED] }) },
    ),
    q,
    true,
  );
  if (created.status !== 201) throw new Error(`POST /v1/webhook-endpoints: ${created.status} ${created.text}`);
  const message = { source: WATCHED };
  if (BASELINE) return [await baselineType(q, message, checks, hooks, OPEN_BEFORE)];
  await invokeQueue(DETECTION_QUEUE_NAME, [message], q, true);
  if (OPEN_BEFORE > 0) {
    await insertOpen(OPEN_BEFORE);
    for (let backlog = true; backlog; ) {
      kept.clear();
      await invokeQueue(DETECTION_QUEUE_NAME, [message], q, true);
      backlog = checks.take().length > 0;
    }
    hooks.take();
  }
  await insertOpen(BACKLOG);
  // Upstream answers kept before the insert would hide the backlog: every later read is filled again.
  kept.clear();
  checks.take();
  hooks.take();
  const undoCheck = await snapshot(db, "check", WRITTEN);
  const before = await rowCounts(db);
  await invokeQueue(DETECTION_QUEUE_NAME, [message], q, true);
  const after = await rowCounts(db);
  const stray = [...after].filter(([t, n]) => !WRITTEN.includes(t) && n !== before.get(t)).map(([t]) => t);
  if (stray.length > 0) throw new Error(`a check wrote ${stray.join(", ")}, which the bench does not put back`);
  const queued = hooks.take().slice(0, DELIVERY_BATCH);
  checks.take();
  if (queued.length < DELIVERY_BATCH) throw new Error(`the check queued ${queued.length} deliveries`);
  const undoDeliveries = await snapshot(db, "deliveries", WRITTEN);
  const eventIds = queued.map((m) => m.event_id);
  const payloads = (
    await db
      .prepare(`SELECT payload FROM events WHERE id IN (${eventIds.map(() => "?").join(",")})`)
      .bind(...eventIds)
      .all<{ payload: string }>()
  ).results.map((r) => r.payload);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  await undoCheck();

  const lastCheck = () =>
    db
      .prepare("SELECT created, events FROM detection_checks WHERE source = ? ORDER BY version DESC LIMIT 1")
      .bind(WATCHED)
      .first<{ created: number; events: number }>();
  const types: QueueType[] = [
    {
      id: CHECK_ID,
      name: `${ON_8X8 ? "8x8 " : ""}detection check, backlog of ${BACKLOG}${OPEN_BEFORE > 0 ? `, ${OPEN_BEFORE} more open items watched` : ""}`,
      bindings: q,
      run: (b = q) => invokeQueue(DETECTION_QUEUE_NAME, [message], b),
      undo: async () => {
        checks.take();
        hooks.take();
        await undoCheck();
      },
      // The same upstream bodies, fetched (from memory) and parsed: what any check must do to see the backlog.
      control: async () => {
        for (const url of controlSpecs.get(CHECK_ID)?.upstream ?? []) await (await fetch(url)).json();
      },
      controlName: "the same upstream bodies, fetched and parsed",
      outcome: async () => {
        const row = await lastCheck();
        return { done: row?.created ?? 0, expect: perCheck, itemsReturned: row?.events ?? 0 };
      },
      note: `one endpoint watches the source: the check takes ${perCheck} of the ${BACKLOG} new items (WEBHOOK_CHECK_ITEMS), records ${perCheck} events and queues ${perCheck} deliveries (to memory), and sends the source on for the rest. Local D1 runs in the measured process, so its own CPU is in the total; the isolate figure takes its replay out`,
    },
    {
      id: "deliveries-10",
      name: `delivery batch of ${DELIVERY_BATCH}`,
      bindings: q,
      run: async (b = q) => {
        await invokeQueue("tributary-webhooks", queued, b);
      },
      undo: async () => {
        hooks.take();
        await undoDeliveries();
      },
      // The same payloads, each signed (HMAC-SHA256) and POSTed to the same endpoint (answered from memory).
      control: async () => {
        await Promise.all(
          payloads.map(async (payload, i) => {
            const id = eventIds[i] ?? "";
            const signature = await sign(secret, `${id}.${Math.floor(Date.now() / 1000)}.${payload}`);
            await fetch(HOOK, {
              method: "POST",
              headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-signature": `v1,${signature}` },
              body: payload,
            });
          }),
        );
      },
      controlName: `the same ${DELIVERY_BATCH} payloads, each signed and POSTed to the endpoint`,
      outcome: async () => {
        const received = hooksReceived;
        hooksReceived = 0;
        return { done: received, expect: DELIVERY_BATCH, itemsReturned: null };
      },
      note: `the endpoint answers 204 from memory. Local D1 and the endpoint's EndpointPacer object run in the measured process, so their own CPU is in the total; the isolate figure takes their replay out`,
    },
  ];
  return types.filter((t) => ids.includes(t.id));
}

/** The source's first check, with `open` open items upstream before it: it records what it sees, with no events. */
async function baselineType(
  q: Env,
  message: { source: string },
  checks: ReturnType<typeof memoryQueue>,
  hooks: ReturnType<typeof memoryQueue>,
  open: number,
): Promise<QueueType> {
  if (open > 0) await insertOpen(open);
  kept.clear();
  const undo = await snapshot(env.DB, "baseline", WRITTEN);
  const watched = () =>
    env.DB.prepare("SELECT watched FROM detection_checks WHERE source = ? ORDER BY version DESC LIMIT 1")
      .bind(WATCHED)
      .first<{ watched: number }>();
  return {
    id: CHECK_ID,
    name: `${ON_8X8 ? "8x8 " : ""}detection baseline, ${open} open items there before it`,
    bindings: q,
    run: (b = q) => invokeQueue(DETECTION_QUEUE_NAME, [message], b),
    undo: async () => {
      checks.take();
      hooks.take();
      await undo();
    },
    control: async () => {
      for (const url of controlSpecs.get(CHECK_ID)?.upstream ?? []) await (await fetch(url)).json();
    },
    controlName: "the same upstream bodies, fetched and parsed",
    // It announces nothing; the items it returned are the open items it watches from then on.
    outcome: async () => ({ done: 0, expect: 0, itemsReturned: (await watched())?.watched ?? 0 }),
    note: `the first check of a source with ${open} more open items: it reads the head and the open lists, and watches the open items it sees; no events. Local D1 runs in the measured process, so its own CPU is in the total; the isolate figure takes its replay out`,
  };
}

const authorized = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
  new Request(`http://tributary.local${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${API_KEY}`, ...headers },
  });
const noCache = { "Cache-Control": "no-cache" };

async function admin<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await realFetch(`${base}/__admin${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function saveFeed(sources: string[], bindings: Env): Promise<string> {
  const res = await invoke(
    authorized(
      "/v1/feeds",
      { "Content-Type": "application/json" },
      { method: "POST", body: JSON.stringify({ sources }) },
    ),
    bindings,
  );
  if (res.status !== 201) throw new Error(`POST /v1/feeds: ${res.status} ${res.text.slice(0, 300)}`);
  return (JSON.parse(res.text) as { id: string }).id;
}

async function nextCursor(path: string, bindings: Env): Promise<string> {
  const res = await invoke(authorized(path, noCache), bindings, true);
  const cursor = (JSON.parse(res.text) as { page?: { next_cursor?: string | null } }).page?.next_cursor;
  if (res.status !== 200 || !cursor) throw new Error(`${path}: ${res.status}, no next_cursor`);
  return cursor;
}

it("CPU per invocation beside a bare Hono control", async () => {
  const clock = clockAdvancesDuringCpu();
  // The bracket alone: two /cpu reads around an empty batch.
  const brackets: { cpu: number; wall: number }[] = [];
  for (let i = 0; i < 30; i++) brackets.push(await batch(async () => undefined, 0));
  bracketCpuMs = percentile(
    brackets.map((b) => b.cpu).sort((a, b) => a - b),
    50,
  );
  bracketWallMs = percentile(
    brackets.map((b) => b.wall).sort((a, b) => a - b),
    50,
  );

  // The process's CPU while the isolate waits: the floor under every bracket (timers, the test runner's traffic).
  const i0 = await cpuNowNs();
  await scheduler.wait(1_000);
  const idleCpuMsPerS = round(((await cpuNowNs()) - i0) / 1e6 - bracketCpuMs);

  // One round trip to an UpstreamBudget object (the runtime's, in this process): what each grant an invocation makes
  // adds to its figure here, both sides of the call counted (in production the object's side runs elsewhere).
  const probe = env.UPSTREAM_BUDGET.get(env.UPSTREAM_BUDGET.idFromName("bench-probe"));
  const ask = {
    want: 1,
    priority: "listing" as const,
    policy: { ratePerSecond: 1_000_000, capacity: 1_000_000_000, reserve: 0 },
  };
  for (let i = 0; i < 20; i++) await probe.grant(ask);
  const g0 = await cpuNowNs();
  for (let i = 0; i < GRANT_PROBES; i++) await probe.grant(ask);
  const budgetGrantCpuMs = round(((await cpuNowNs()) - g0) / 1e6 / GRANT_PROBES - bracketCpuMs / GRANT_PROBES);

  await applyD1Migrations(env.DB, (env as unknown as { BENCH_MIGRATIONS: D1Migration[] }).BENCH_MIGRATIONS);
  const bench = { ...env, DB: stagedD1(env.DB), CACHE: memoryKv(), RATE_LIMITER: allowAll } as Env;
  // A paid plan's room: its subrequests, and its CPU for the sources a first page reads (FEED_FIRST_PAGE_SOURCES).
  const roomy = { ...bench, SUBREQUEST_LIMIT: ROOMY_SUBREQUEST_LIMIT, FEED_FIRST_PAGE_SOURCES: "100" } as Env;

  // An organisation of 100 sources, as part 6 and test/integration/runs.feed.scale.test.ts build it.
  const eightByEight = inject("cpuEightByEightUrl");
  type Definitions = { definitions: { id: string }[] };
  const seeded = (await admin<Definitions>(eightByEight, "GET", "/definitions")).definitions;
  const added = (
    await admin<Definitions>(eightByEight, "POST", "/definitions", {
      count: FEED_SOURCES - 1 - seeded.length,
      instances: 12,
    })
  ).definitions;
  const sources = ["inkit", ...[...seeded, ...added].map((d) => `8x8:acme-ops/${d.id}`)];
  const feed4 = await saveFeed(sources.slice(0, 4), bench);
  const feed20 = await saveFeed(sources.slice(0, 20), bench);
  const feed50 = await saveFeed(sources.slice(0, 50), bench);
  const feed100 = await saveFeed(sources, bench);
  const feed4Later = await nextCursor(`/v1/runs?feed=${feed4}&limit=50`, bench);
  const feed100Later = await nextCursor(`/v1/runs?feed=${feed100}&limit=50`, roomy);

  defaultBindings = bench;
  let postSeq = 0;
  const types: RequestType[] = [
    { id: "healthz", name: "/healthz", request: () => new Request("http://tributary.local/healthz"), cached: true },
    {
      id: "page-memory",
      name: "cached page (50), isolate memory",
      request: () => authorized("/v1/inkit/runs?limit=50"),
      cached: true,
    },
    {
      id: "page-kv",
      name: "cached page (50), KV",
      request: () => authorized("/v1/inkit/runs?limit=50"),
      before: forgetCacheMemory,
      cached: true,
      controlFromKv: true,
    },
    { id: "page-50", name: "uncached page of 50", request: () => authorized("/v1/inkit/runs?limit=50", noCache) },
    { id: "page-500", name: "uncached page of 500", request: () => authorized("/v1/inkit/runs?limit=500", noCache) },
    {
      id: "feed4-first",
      name: "4-source feed, first page",
      request: () => authorized(`/v1/runs?feed=${feed4}&limit=50`, noCache),
    },
    {
      id: "feed4-later",
      name: "4-source feed, later page",
      request: () => authorized(`/v1/runs?cursor=${encodeURIComponent(feed4Later)}&limit=50`, noCache),
    },
    {
      id: "feed20-first",
      name: "20-source feed, first page",
      request: () => authorized(`/v1/runs?feed=${feed20}&limit=50`, noCache),
      note: "the most sources a first page reads at the defaults (FEED_FIRST_PAGE_SOURCES 20)",
    },
    {
      id: "feed50-first",
      name: "50-source feed, first page",
      request: () => authorized(`/v1/runs?feed=${feed50}&limit=50`, noCache),
      bindings: roomy,
      paid: true,
      note: `SUBREQUEST_LIMIT ${ROOMY_SUBREQUEST_LIMIT}, FEED_FIRST_PAGE_SOURCES 100: at the defaults this page is refused up front (400 too-many-sources)`,
    },
    {
      id: "feed50-refused",
      name: "50-source feed, first page, defaults",
      request: () => authorized(`/v1/runs?feed=${feed50}&limit=50`, noCache),
      cached: true,
    },
    {
      id: "feed100-first",
      name: "100-source feed, first page",
      request: () => authorized(`/v1/runs?feed=${feed100}&limit=50`, noCache),
      bindings: roomy,
      paid: true,
      note: `SUBREQUEST_LIMIT ${ROOMY_SUBREQUEST_LIMIT}, FEED_FIRST_PAGE_SOURCES 100: at the defaults this page is refused up front (400 subrequest-limit)`,
    },
    {
      id: "feed100-refused",
      name: "100-source feed, first page, default limit",
      request: () => authorized(`/v1/runs?feed=${feed100}&limit=50`, noCache),
      cached: true,
    },
    {
      id: "feed100-later",
      name: "100-source feed, later page",
      request: () => authorized(`/v1/runs?cursor=${encodeURIComponent(feed100Later)}&limit=50`, noCache),
      bindings: roomy,
      paid: true,
    },
    {
      id: "keyed-post",
      name: "keyed POST /v1/feeds",
      request: () =>
        authorized(
          "/v1/feeds",
          { "Content-Type": "application/json", "Idempotency-Key": `bench-${++postSeq}` },
          { method: "POST", body: JSON.stringify({ sources: sources.slice(0, 4) }) },
        ),
      cached: true,
    },
  ];

  const only = String((env as unknown as { BENCH_CPU_ONLY?: string }).BENCH_CPU_ONLY ?? "")
    .split(",")
    .filter(Boolean);
  const rows: CpuRow[] = [];
  for (const t of types) if (only.length === 0 || only.includes(t.id)) rows.push(await measureType(t));
  // Last: the check's backlog is inserted into the Inkit simulator, which the rows above read.
  const queueIds = [CHECK_ID, "deliveries-10"].filter((id) => only.length === 0 || only.includes(id));
  if (queueIds.length > 0)
    for (const t of await queueTypes(bench, queueIds)) {
      if (t.id === CHECK_ID) {
        // The control reads what the check read: its URLs, from one invocation.
        take();
        await t.run();
        controlSpecs.set(t.id, { body: "", headers: {}, upstream: [...new Set(take())], fromKv: false });
        await t.undo();
      }
      // Each starts from its own state: before the check, or with the check's deliveries pending.
      await t.undo();
      hooksReceived = 0;
      rows.push(await measureQueueType(t));
    }

  const figures: CpuFigures = {
    clock: {
      performanceNowAdvancesDuringCpu: clock.advances,
      busyLoopMs: clock.busyMs,
      method:
        "batches bracketed by reads of the workerd process's CPU time (schedstat, ns, every thread); wall time from performance.now() around the same batch",
      bracketCpuMs: round(bracketCpuMs),
      bracketWallMs: round(bracketWallMs),
      idleCpuMsPerS,
      budgetGrantCpuMs,
      sampleTargetMs: SAMPLE_MS,
    },
    runtime: { userAgent: navigator.userAgent, linesLogged },
    rows,
  };
  await realFetch(`${collector()}/results`, { method: "POST", body: JSON.stringify(figures) });
});
