// Part 8: a burst of new upstream items through `npm start`'s stack (issue 30). N new Inkit runs and N new 8x8
// instances are inserted in one go, watched by one webhook endpoint (a counting consumer this part starts) and one
// poll-only subscription (read from GET /v1/event-stream). Every item makes one `run.created`. The part waits until
// every event was delivered and streamed, and meanwhile samples, once a second, the open descriptors of the local
// runtime's processes and /healthz. It asserts counts only: every event arrived by push and by pull, /healthz never
// failed, the runtime's descriptors stayed under a bound. See bench/README.md, part 8.
//
//   npm run bench -- --only=burst                          the stack started here (scripts/start.ts), 10,000 + 10,000
//   npm run bench -- --only=burst --burst=1000             1,000 + 1,000
//   npx tsx bench/burst.ts --attach=http://127.0.0.1:8787  against a running `npm start` (simulators on 4010/4020,
//                                                          or --inkit-url=… --8x8-url=…), printing JSON
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Webhook } from "standardwebhooks";
import { freePort, installCleanup, spawnTracked, stopChild } from "../scripts/proc";
import { admin, ROOT } from "./lib/stack";

/** The 8x8 definition the burst goes to (seeded, account acme-ops). */
const DEFINITION = "3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14";
const SOURCES = ["inkit:runs", `8x8:acme-ops/${DEFINITION}`];
/** The simulators' admin insert takes at most this many items per call. */
const INSERT_CHUNK = 10_000;
/** An event stream page (the route's maximum). */
const STREAM_LIMIT = 500;

/**
 * The descriptors the runtime's processes (wrangler's Node process and its workerd processes) may hold together at
 * the peak of the burst. Idle, they hold about 110; what a burst adds is bounded by the deliveries in flight (the
 * queue consumer's batches of 10, a connection each to the consumer), the D1/KV/queue files and the listeners, not by
 * the number of items. 1,000 is ten times the idle count and a twentieth of the 20,000 where the stack broke. With
 * the DevTools inspector on, a 2,000 + 2,000 burst took them to 3,500–6,500, a 10,000 + 10,000 one to 5,417–6,015.
 */
const DESCRIPTOR_BOUND = 1_000;
/** The run stops (and fails) above this many, to spare a shared machine the 20,000 limit. */
const DESCRIPTOR_ABORT = 15_000;
const HEALTHZ_TIMEOUT_MS = 5_000;

export interface BurstOptions {
  /** New Inkit runs, and as many new 8x8 instances. */
  perSource: number;
  /** A running stack to use instead of starting one. */
  attach?: { origin: string; inkitUrl: string; eightByEightUrl: string };
  /** Start the stack with the DevTools inspector on (DEV_INSPECTOR=1), as `wrangler dev` runs it: the "before". */
  inspector: boolean;
  timeoutMs: number;
  /** Where the started stack's state and log go. */
  dir: string;
}

interface ProcessPeak {
  pid: number;
  name: string;
  baseline: number;
  peak: number;
  /** Resident memory (MiB) before the burst and at its most. */
  rssBaselineMiB: number;
  rssPeakMiB: number;
}

export interface BurstResult {
  perSource: number;
  /** Whether the stack ran with the DevTools inspector; null when attached to a stack started elsewhere. */
  inspector: boolean | null;
  attached: boolean;
  expected: number;
  /** Distinct events (by id) of the inserted items the endpoint received, and deliveries beyond the first per id. */
  delivered: number;
  duplicateDeliveries: number;
  /** Deliveries whose signature did not verify. */
  unverified: number;
  /** Distinct events of the inserted items read from the stream, and repeats of an id already read. */
  streamed: number;
  duplicateStreamed: number;
  /** Distinct (type, object) pairs among the delivered events: two events for one change would show here. */
  distinctChangesDelivered: number;
  /** Insert → the last event recorded (detection caught up), from the events' created_at. */
  detectionS: number | null;
  /** Insert → the last delivery; first → last delivery; delivered / (first → last). */
  lastDeliveryS: number | null;
  deliverySpanS: number | null;
  deliveryRatePerS: number | null;
  elapsedS: number;
  descriptors: {
    /** Every process of the runtime (wrangler's Node process and its workerd processes), summed per sample. */
    baseline: number;
    peak: number;
    bound: number;
    processes: ProcessPeak[];
  };
  healthz: { samples: number; failures: number; maxMs: number; p50Ms: number };
  /** One line per 5 s: seconds since insert, descriptors, delivered, streamed, healthz ms. */
  timeline: string[];
  passed: boolean;
  problems: string[];
}

type Log = (line: string) => void;

function apiKeys(): [string, string] {
  const file = ["/.dev.vars", "/.dev.vars.example"]
    .map((f) => join(ROOT, f))
    .find((f) => {
      try {
        readFileSync(f);
        return true;
      } catch {
        return false;
      }
    });
  const keys = /^API_KEYS="?([^"\n]+)/m.exec(readFileSync(file ?? "", "utf8"))?.[1]?.split(",") ?? [];
  if (keys.length < 2) throw new Error("the burst needs two API keys in API_KEYS (.dev.vars)");
  return [keys[0] as string, keys[1] as string];
}

// ---- the runtime's processes and their descriptors (Linux /proc) ----

function listenerPid(port: number): number | null {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local address, state 0A = LISTEN, inode
      if (cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A" && cols[9]) inodes.add(cols[9]);
    }
  }
  for (const pid of pids()) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return pid;
      }
    } catch {}
  }
  return null;
}

const pids = () =>
  readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number);

function stat(pid: number): { name: string; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const name = text.slice(text.indexOf("(") + 1, close);
    const ppid = Number(text.slice(close + 2).split(" ")[1]);
    return { name, ppid };
  } catch {
    return null;
  }
}

/**
 * The runtime: the workerd process that serves the worker's port, its parent (wrangler's Node process) and every
 * workerd that parent started (the proxy in front and the worker's own).
 */
function runtimeProcesses(port: number): { pid: number; name: string }[] {
  const front = listenerPid(port);
  if (front === null) throw new Error(`no process listens on port ${port}`);
  const parent = stat(front)?.ppid;
  if (parent === undefined) throw new Error(`process ${front} vanished`);
  const children = pids().filter((p) => stat(p)?.ppid === parent && stat(p)?.name === "workerd");
  return [{ pid: parent, name: "wrangler (node)" }, ...children.map((pid) => ({ pid, name: `workerd ${pid}` }))];
}

function residentMiB(pid: number): number {
  try {
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

function openDescriptors(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

// ---- the counting consumer ----

interface Consumer {
  url: string;
  server: Server;
  /** Deliveries per event id. */
  byId: Map<string, number>;
  changes: Set<string>;
  unverified: number;
  firstAt: number | null;
  lastAt: number | null;
  setSecret(secret: string): void;
  /** Event ids of the inserted items delivered so far. */
  matched(ids: Set<string>): number;
}

async function startConsumer(): Promise<Consumer> {
  const port = await freePort();
  let webhook: Webhook | null = null;
  const objectOf = new Map<string, string>();
  const consumer: Consumer = {
    url: `http://127.0.0.1:${port}/webhooks`,
    server: createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const id = String(req.headers["webhook-id"] ?? "");
        try {
          const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v ?? "")]));
          const event = (webhook ? webhook.verify(body, headers) : JSON.parse(body)) as {
            type: string;
            data: { object: { id: string } };
          };
          const now = performance.now();
          consumer.firstAt ??= now;
          consumer.lastAt = now;
          consumer.byId.set(id, (consumer.byId.get(id) ?? 0) + 1);
          objectOf.set(id, event.data.object.id);
          consumer.changes.add(`${event.type} ${event.data.object.id}`);
        } catch {
          consumer.unverified += 1;
        }
        res.writeHead(204);
        res.end();
      });
    }),
    byId: new Map(),
    changes: new Set(),
    unverified: 0,
    firstAt: null,
    lastAt: null,
    setSecret: (secret) => {
      webhook = new Webhook(secret);
    },
    matched: (ids) => {
      let n = 0;
      for (const id of consumer.byId.keys()) if (ids.has(objectOf.get(id) ?? "")) n += 1;
      return n;
    },
  };
  // Deliveries arrive 10 at a time per batch; keep-alive as any consumer would.
  consumer.server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => consumer.server.listen(port, "127.0.0.1", resolve));
  return consumer;
}

// ---- the stack ----

interface Stack {
  origin: string;
  inkitUrl: string;
  eightByEightUrl: string;
  stop(): Promise<void>;
}

async function startStack(opts: BurstOptions, log: Log): Promise<Stack> {
  const [port, inkitPort, eightPort] = [await freePort(), await freePort(), await freePort()];
  const { createWriteStream } = await import("node:fs");
  const out = createWriteStream(join(opts.dir, "burst-stack.log"));
  const child = spawnTracked(join(ROOT, "node_modules/.bin/tsx"), ["scripts/start.ts"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      SIM_INKIT_PORT: String(inkitPort),
      SIM_8X8_PORT: String(eightPort),
      STATE_DIR: join(opts.dir, "state"),
      DEV_INSPECTOR: opts.inspector ? "1" : "",
      // The inspector, when on, on a free port: 9229 may be another stack's.
      INSPECTOR_PORT: String(await freePort()),
      WRANGLER_SEND_METRICS: "false",
      NO_COLOR: "1",
    },
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const origin = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start's stack exited; see ${join(opts.dir, "burst-stack.log")}`);
    if (performance.now() - started > 150_000) {
      await stopChild(child);
      throw new Error("npm start's stack was not healthy within 150 s");
    }
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {}
    await sleep(250);
  }
  log(
    `  stack up at ${origin} in ${((performance.now() - started) / 1000).toFixed(1)} s (inspector ${opts.inspector ? "on" : "off"})`,
  );
  return {
    origin,
    inkitUrl: `http://127.0.0.1:${inkitPort}`,
    eightByEightUrl: `http://127.0.0.1:${eightPort}`,
    stop: () => stopChild(child, 10_000),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api<T>(origin: string, key: string, method: string, path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status === 429 && attempt < 20) {
      await res.body?.cancel();
      await sleep(Number(res.headers.get("retry-after") ?? 5) * 1000);
      continue;
    }
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}

// ---- the run ----

interface StreamPage {
  data: { id: string; created_at: string; data: { object: { id: string } } }[];
  page: { next_cursor: string; has_more: boolean };
}

export async function runBurst(opts: BurstOptions, log: Log): Promise<BurstResult> {
  const started = performance.now();
  const [endpointKey, streamKey] = apiKeys();
  const consumer = await startConsumer();
  const stack = opts.attach ? { ...opts.attach, stop: async () => {} } : await startStack(opts, log);
  const problems: string[] = [];
  try {
    const port = Number(new URL(stack.origin).port);
    const processes = runtimeProcesses(port);
    const endpoint = await api<{ id: string; secret: string }>(
      stack.origin,
      endpointKey,
      "POST",
      "/v1/webhook-endpoints",
      {
        url: consumer.url,
        sources: SOURCES,
        event_types: ["run.created"],
        description: "burst bench",
      },
    );
    consumer.setSecret(endpoint.secret);
    const subscription = await api<{ id: string }>(stack.origin, streamKey, "POST", "/v1/event-subscriptions", {
      sources: SOURCES,
      event_types: ["run.created"],
      description: "burst bench",
    });
    // Both watch from their creation on; a tick records that baseline before the burst, so the burst is all new.
    await fetch(`${stack.origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).then((r) => r.body?.cancel());
    await sleep(3_000);

    const baseline = processes.map((p) => {
      const rss = residentMiB(p.pid);
      return { ...p, baseline: openDescriptors(p.pid), peak: 0, rssBaselineMiB: rss, rssPeakMiB: rss };
    });
    const baselineTotal = baseline.reduce((s, p) => s + p.baseline, 0);
    log(`  endpoint ${endpoint.id}, subscription ${subscription.id}; runtime descriptors before: ${baselineTotal}`);

    // The burst, in one go.
    const since = new Date(Date.now() - 1_000).toISOString();
    const insertedAt = performance.now();
    const insertedAtMs = Date.now();
    const ids = new Set<string>();
    const inserts: Promise<void>[] = [];
    for (let left = opts.perSource; left > 0; left -= INSERT_CHUNK) {
      const count = Math.min(left, INSERT_CHUNK);
      inserts.push(
        admin<{ items: { id: string }[] }>(stack.inkitUrl, "POST", "/insert", { kind: "run", count }).then((r) => {
          for (const item of r.items) ids.add(item.id);
        }),
        admin<{ items: { workflowId: string }[] }>(stack.eightByEightUrl, "POST", "/insert", {
          definitionId: DEFINITION,
          count,
          status: "Runnable",
        }).then((r) => {
          for (const item of r.items) ids.add(item.workflowId);
        }),
      );
    }
    await Promise.all(inserts);
    const expected = ids.size;
    log(
      `  inserted ${opts.perSource} + ${opts.perSource} items in ${((performance.now() - insertedAt) / 1000).toFixed(1)} s`,
    );
    // Detection now rather than at the next tick of npm start's cron; its continuations take the backlog on.
    await fetch(`${stack.origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).then((r) => r.body?.cancel());

    // The pull side: the subscription's key reads the stream from just before the burst.
    const streamed = new Map<string, number>();
    let lastCreatedAt = 0;
    let streamDone = false;
    let streamError: unknown = null;
    const reader = (async () => {
      let cursor: string | null = null;
      while (!streamDone) {
        const query: string = cursor
          ? `cursor=${encodeURIComponent(cursor)}&limit=${STREAM_LIMIT}`
          : `since=${encodeURIComponent(since)}&type=run.created&limit=${STREAM_LIMIT}`;
        const page: StreamPage = await api<StreamPage>(stack.origin, streamKey, "GET", `/v1/event-stream?${query}`);
        for (const e of page.data) {
          if (!ids.has(e.data.object.id)) continue;
          streamed.set(e.id, (streamed.get(e.id) ?? 0) + 1);
          lastCreatedAt = Math.max(lastCreatedAt, Date.parse(e.created_at));
        }
        cursor = page.page.next_cursor;
        if (!page.page.has_more) await sleep(2_000);
      }
    })().catch((error) => {
      streamError = error;
    });

    // Once a second: descriptors and /healthz.
    const healthMs: number[] = [];
    let healthFailures = 0;
    const timeline: string[] = [];
    let peakTotal = baselineTotal;
    let aborted = false;
    for (let tick = 0; ; tick++) {
      let total = 0;
      for (const p of baseline) {
        const n = openDescriptors(p.pid);
        p.peak = Math.max(p.peak, n);
        p.rssPeakMiB = Math.max(p.rssPeakMiB, residentMiB(p.pid));
        total += n;
      }
      peakTotal = Math.max(peakTotal, total);
      const t = performance.now();
      try {
        const res = await fetch(`${stack.origin}/healthz`, { signal: AbortSignal.timeout(HEALTHZ_TIMEOUT_MS) });
        await res.body?.cancel();
        if (res.ok) healthMs.push(performance.now() - t);
        else healthFailures += 1;
      } catch {
        healthFailures += 1;
      }
      const delivered = consumer.matched(ids);
      if (tick % 5 === 0) {
        timeline.push(
          `${((performance.now() - insertedAt) / 1000).toFixed(0)} s: descriptors ${total}, delivered ${delivered}, streamed ${streamed.size}, healthz ${(healthMs.at(-1) ?? Number.NaN).toFixed(0)} ms`,
        );
        log(`  ${timeline.at(-1)}`);
      }
      if (total > DESCRIPTOR_ABORT) {
        problems.push(`stopped: the runtime held ${total} descriptors (above ${DESCRIPTOR_ABORT})`);
        aborted = true;
        break;
      }
      if (delivered >= expected && streamed.size >= expected) break;
      if (streamError !== null) {
        problems.push(`reading the stream failed: ${String(streamError)}`);
        break;
      }
      if (performance.now() - started > opts.timeoutMs) {
        problems.push(`timed out after ${opts.timeoutMs / 1000} s`);
        break;
      }
      await sleep(Math.max(0, 1_000 - (performance.now() - t)));
    }
    // A moment for any duplicate still on its way.
    if (!aborted) await sleep(3_000);
    streamDone = true;
    await reader;

    const delivered = consumer.matched(ids);
    let duplicateDeliveries = 0;
    for (const n of consumer.byId.values()) duplicateDeliveries += n - 1;
    const duplicateStreamed = [...streamed.values()].reduce((s, n) => s + n - 1, 0);
    const sorted = [...healthMs].sort((a, b) => a - b);
    const span =
      consumer.firstAt !== null && consumer.lastAt !== null ? (consumer.lastAt - consumer.firstAt) / 1000 : null;
    const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
    if (delivered !== expected) problems.push(`delivered ${delivered} of ${expected} events`);
    if (streamed.size !== expected) problems.push(`streamed ${streamed.size} of ${expected} events`);
    if (consumer.unverified > 0) problems.push(`${consumer.unverified} deliveries did not verify`);
    if (healthFailures > 0)
      problems.push(`/healthz failed ${healthFailures} times (non-2xx or over ${HEALTHZ_TIMEOUT_MS} ms)`);
    if (peakTotal > DESCRIPTOR_BOUND) problems.push(`descriptors peaked at ${peakTotal} (bound ${DESCRIPTOR_BOUND})`);
    return {
      perSource: opts.perSource,
      inspector: opts.attach ? null : opts.inspector,
      attached: opts.attach !== undefined,
      expected,
      delivered,
      duplicateDeliveries,
      unverified: consumer.unverified,
      streamed: streamed.size,
      duplicateStreamed,
      distinctChangesDelivered: consumer.changes.size,
      detectionS: lastCreatedAt > 0 ? round((lastCreatedAt - insertedAtMs) / 1000) : null,
      lastDeliveryS: consumer.lastAt !== null ? round((consumer.lastAt - insertedAt) / 1000) : null,
      deliverySpanS: span === null ? null : round(span),
      deliveryRatePerS: span && span > 0 ? round(delivered / span, 0) : null,
      elapsedS: round((performance.now() - started) / 1000),
      descriptors: {
        baseline: baselineTotal,
        peak: peakTotal,
        bound: DESCRIPTOR_BOUND,
        processes: baseline,
      },
      healthz: {
        samples: healthMs.length + healthFailures,
        failures: healthFailures,
        maxMs: round(sorted.at(-1) ?? 0),
        p50Ms: round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      },
      timeline,
      passed: problems.length === 0,
      problems,
    };
  } finally {
    consumer.server.closeAllConnections();
    consumer.server.close();
    await stack.stop();
  }
}

/** The part's table (bench/run.ts prints it). */
export function burstTable(r: BurstResult): string {
  const p = r.descriptors.processes
    .map((x) => `${x.name} ${x.baseline}→${x.peak} (${x.rssBaselineMiB}→${x.rssPeakMiB} MiB)`)
    .join(", ");
  return [
    `8. Burst through npm start's stack: ${r.perSource} + ${r.perSource} new items, one endpoint and one poll-only subscription${r.attached ? " (attached to a running stack)" : r.inspector ? " (DevTools inspector on, as wrangler dev runs it)" : ""}`,
    `   events expected ${r.expected}: delivered ${r.delivered} (duplicates ${r.duplicateDeliveries}, unverified ${r.unverified}), streamed ${r.streamed} (repeats ${r.duplicateStreamed})`,
    `   runtime descriptors: ${r.descriptors.baseline} before, peak ${r.descriptors.peak} (bound ${r.descriptors.bound}); ${p}`,
    `   delivery: ${r.deliveryRatePerS ?? "–"} events/s over ${r.deliverySpanS ?? "–"} s; detection caught up after ${r.detectionS ?? "–"} s, last delivery ${r.lastDeliveryS ?? "–"} s after the insert`,
    `   /healthz: ${r.healthz.samples} samples, ${r.healthz.failures} failed, p50 ${r.healthz.p50Ms} ms, max ${r.healthz.maxMs} ms; part ${r.elapsedS} s`,
    ...(r.passed ? ["   passed"] : r.problems.map((x) => `   FAILED: ${x}`)),
  ].join("\n");
}

/** `--burst=N` (items per source) for the runner; 10,000 by default. */
export function burstSizeFromArgs(argv: string[]): number {
  const n = Number(argv.find((a) => a.startsWith("--burst="))?.slice("--burst=".length) ?? 10_000);
  if (!Number.isInteger(n) || n < 1) throw new Error("--burst takes a positive integer (items per source)");
  return n;
}

// Run directly: against a running `npm start` (--attach=origin), or starting one.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const attach = arg("attach");
  installCleanup();
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const result = await runBurst(
    {
      perSource: burstSizeFromArgs(process.argv),
      attach: attach
        ? {
            origin: attach,
            inkitUrl: arg("inkit-url") ?? "http://127.0.0.1:4010",
            eightByEightUrl: arg("8x8-url") ?? "http://127.0.0.1:4020",
          }
        : undefined,
      inspector: process.argv.includes("--inspector"),
      timeoutMs: Number(arg("timeout-s") ?? 900) * 1000,
      dir: mkdtempSync(join(tmpdir(), "burst-")),
    },
    (line) => console.error(line),
  );
  console.log(burstTable(result));
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.passed ? 0 : 1);
}
