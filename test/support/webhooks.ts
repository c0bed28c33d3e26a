import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  type D1Migration,
  evictDurableObject,
  getQueueResult,
  listDurableObjectIds,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import worker from "../../src";
import { createApp } from "../../src/app";
import type { CheckMessage } from "../../src/detection/tick";
import type { DeliveryMessage } from "../../src/events/outbox";
import { type EventType, eventPayloadSchemas } from "../../src/schemas/events";
import { TEST_API_KEY } from "../setup/bindings";
import type { ReceivedDelivery } from "../setup/received-delivery";
import { migrateAfresh } from "./storage";

export type { ReceivedDelivery };

declare module "vitest" {
  export interface ProvidedContext {
    consumerUrl: string;
  }
}

const ORIGIN = "https://tributary.test";

/** A message the worker put on a queue, with the options it was sent with. */
interface Queued<T = DeliveryMessage> {
  body: T;
  delaySeconds: number;
}

/**
 * A Queue binding that records what is sent instead of delivering it, so a test decides when the consumer runs
 * (createMessageBatch + getQueueResult) and can read every delay the worker asked for.
 */
export function recordingQueue<T = DeliveryMessage>() {
  const pending: Queued<T>[] = [];
  const sent: Queued<T>[] = [];
  // When each message becomes visible, as a queue honouring its delay would deliver it (`takeDue`).
  const visibleAt = new WeakMap<Queued<T>, number>();
  const record = (body: T, delaySeconds = 0) => {
    // Queues serialize bodies: never hand the consumer the producer's object.
    const message = { body: JSON.parse(JSON.stringify(body)) as T, delaySeconds };
    visibleAt.set(message, Date.now() + delaySeconds * 1000);
    pending.push(message);
    sent.push(message);
  };
  const binding: Queue<T> = {
    async send(body, options) {
      record(body, options?.delaySeconds);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendResponse;
    },
    async sendBatch(messages, options) {
      for (const m of messages) record(m.body, m.delaySeconds ?? options?.delaySeconds);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendBatchResponse;
    },
    async metrics() {
      return { backlogCount: pending.length, backlogBytes: 0 };
    },
  };
  return {
    binding,
    /** Everything ever sent, in order. */
    sent,
    /** Takes the messages not yet consumed. */
    take: () => pending.splice(0, pending.length),
    /** Takes the messages whose delay has run out by `now`, oldest first. */
    takeDue(now: number): Queued<T>[] {
      const due = pending.filter((m) => (visibleAt.get(m) ?? 0) <= now);
      for (const m of due) pending.splice(pending.indexOf(m), 1);
      return due;
    },
    /** When the next pending message becomes visible (ms), or null when none is pending. */
    nextVisible: (): number | null =>
      pending.length === 0 ? null : Math.min(...pending.map((m) => visibleAt.get(m) ?? 0)),
    get size() {
      return pending.length;
    },
  };
}

/**
 * The worker's bindings with recording queues: nothing is delivered unless a test drains the queue. The listing
 * cache is off unless `cache: true` (its per-key write spacing would add a second to every tick).
 */
export function webhookEnv(overrides: Record<string, unknown> = {}, options: { cache?: boolean } = {}) {
  const queue = recordingQueue();
  const dlq = recordingQueue<DeliveryMessage & { reason: string }>();
  const detection = recordingQueue<CheckMessage>();
  const bindings = {
    ...env,
    ...(options.cache ? {} : { CACHE_TTL_LIST_SECONDS: "0", CACHE_TTL_ITEM_SECONDS: "0" }),
    WEBHOOK_QUEUE: queue.binding,
    WEBHOOK_DLQ: dlq.binding,
    DETECTION_QUEUE: detection.binding,
    ...overrides,
  } as Env;
  return { env: bindings, queue, dlq, detection };
}

export type WebhookEnv = ReturnType<typeof webhookEnv>;

const app = createApp();

/** Calls the real app with the given bindings (and the test API key unless `auth` says otherwise). */
export async function callApp(
  w: WebhookEnv,
  path: string,
  init: RequestInit & { auth?: string | false; json?: unknown } = {},
): Promise<Response> {
  const { auth = TEST_API_KEY, json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (auth !== false && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${auth}`);
  if (json !== undefined) headers.set("Content-Type", "application/json");
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(new URL(path, ORIGIN), {
      ...rest,
      headers,
      body: json === undefined ? rest.body : JSON.stringify(json),
    }),
    w.env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

export async function callAppJson<T = Record<string, unknown>>(
  w: WebhookEnv,
  path: string,
  init: Parameters<typeof callApp>[2] = {},
) {
  const res = await callApp(w, path, init);
  const text = await res.text();
  return { res, body: (text ? JSON.parse(text) : null) as T };
}

interface CronOptions {
  /** Whether to run the checks that checks send to continue a backlog (default true). */
  follow?: boolean;
  maxChecks?: number;
  /** Called once the scheduled handler is done, before the first check runs: to measure the two apart. */
  afterScheduled?: () => void;
}

/**
 * One cron tick of change detection: the worker's scheduled handler, then every check it queued, each in an
 * invocation of its own as the detection queue's consumer runs them, and (unless `follow` is false) the checks those
 * send to continue a backlog, until none is left. Returns the checks run.
 */
export async function runCron(w: WebhookEnv, options: CronOptions = {}): Promise<number> {
  const { follow = true, maxChecks = 500 } = options;
  const controller = createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, w.env, ctx);
  await waitOnExecutionContext(ctx);
  options.afterScheduled?.();
  let checks = 0;
  for (let round = w.detection.take(); round.length > 0; round = follow ? w.detection.take() : []) {
    for (const message of round) {
      if (++checks > maxChecks) throw new Error(`detection still busy after ${maxChecks} checks`);
      await consumeCheck(w, message.body);
    }
  }
  return checks;
}

/** Hands one detection message to the worker's queue consumer, as the detection queue does; asserts it was acked. */
export async function consumeCheck(w: WebhookEnv, body: CheckMessage): Promise<void> {
  const batch = createMessageBatch<CheckMessage>("tributary-detection", [
    { id: `chk-${++messageSeq}`, timestamp: new Date(), attempts: 1, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, w.env, ctx);
  const result = (await getQueueResult(batch, ctx)) as QueueResult;
  expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
}

interface QueueResult {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean };
  explicitAcks: string[];
  retryMessages: { msgId: string; delaySeconds?: number }[];
}

let messageSeq = 0;

/** The deliveries consumer's `max_batch_size` in wrangler.toml: Queues hand it at most this many messages at once. */
const MAX_BATCH_SIZE = 10;

/** Hands queued messages to the worker's queue consumer as one batch; asserts each was explicitly acked. */
export async function consumeOnce(w: WebhookEnv, messages: Queued[] = w.queue.take()): Promise<QueueResult> {
  const batch = createMessageBatch<DeliveryMessage>(
    "tributary-webhooks",
    messages.map((m) => ({ id: `msg-${++messageSeq}`, timestamp: new Date(), attempts: 1, body: m.body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, w.env, ctx);
  const result = (await getQueueResult(batch, ctx)) as QueueResult;
  expect(result.retryMessages).toEqual([]);
  expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
  return result;
}

/**
 * Consumes until the queue is empty, ignoring delays (as if they had all elapsed: the endpoints' pacers forget their
 * pauses and windows between rounds too); returns the rounds run. A round takes every pending message and hands them
 * to the consumer in batches of the queue's `max_batch_size` (10), one after another.
 */
export async function drain(w: WebhookEnv, maxRounds = 20): Promise<number> {
  let rounds = 0;
  while (w.queue.size > 0) {
    if (++rounds > maxRounds) throw new Error(`queue not drained after ${maxRounds} rounds`);
    if (rounds > 1) await lapsePacers(w);
    const round = w.queue.take();
    for (let i = 0; i < round.length; i += MAX_BATCH_SIZE) await consumeOnce(w, round.slice(i, i + MAX_BATCH_SIZE));
  }
  return rounds;
}

/**
 * Makes every endpoint pacer start afresh, as if its pause, rate window and leases had run out: for tests that let
 * queue delays elapse at once. Its stored pause is deleted and the object evicted (its memory goes with it).
 */
export async function lapsePacers(w: WebhookEnv): Promise<void> {
  const pacers = w.env.ENDPOINT_PACER;
  for (const id of await listDurableObjectIds(pacers)) {
    const stub = pacers.get(id);
    await runInDurableObject(stub, (_pacer, state) => state.storage.deleteAll());
    await evictDurableObject(stub);
  }
}

/**
 * Runs the deliveries consumer as Queues would, in real time: messages become visible once their delay has run out,
 * in batches of the consumer's `max_batch_size` (10), every visible batch in an invocation of its own at once (up to
 * `concurrency`), until nothing is pending or running. The pacing under test sees real concurrency and real delays;
 * the test asserts what the consumer counted, never how long this took. Returns the batches run.
 */
export async function drainInTime(w: WebhookEnv, options: { concurrency?: number; maxBatches?: number } = {}) {
  const { concurrency = 20, maxBatches = 2_000 } = options;
  const running = new Set<Promise<unknown>>();
  let batches = 0;
  for (;;) {
    const due = running.size < concurrency ? w.queue.takeDue(Date.now()) : [];
    for (let i = 0; i < due.length; i += MAX_BATCH_SIZE) {
      if (++batches > maxBatches) throw new Error(`queue not drained after ${maxBatches} batches`);
      const run: Promise<unknown> = consumeOnce(w, due.slice(i, i + MAX_BATCH_SIZE)).finally(() => running.delete(run));
      running.add(run);
    }
    const next = w.queue.nextVisible();
    if (running.size === 0 && next === null) return batches;
    // Wake when a batch ends or the next message becomes visible, whichever is first.
    const untilVisible = next === null ? 1_000 : Math.max(next - Date.now(), 10);
    await Promise.race([...running, new Promise((resolve) => setTimeout(resolve, Math.min(untilVisible, 1_000)))]);
  }
}

/**
 * Leaves env.DB as the migrations leave an empty database (migrateAfresh): no rows but those the migrations seed, saved
 * feeds gone too: a test that calls it starts from nothing.
 */
export async function resetWebhookStore(): Promise<void> {
  await migrateAfresh(env.DB, (env as unknown as { TEST_MIGRATIONS: D1Migration[] }).TEST_MIGRATIONS);
}

/** Rows of a webhook table, for assertions. */
export async function rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> {
  return (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;
}

/**
 * Hook names on the consumer, which every runtime shares: prefixed with this module's own random key, so files
 * running at the same time (in different runtimes) never share a hook, whatever they call theirs. Files that share a
 * runtime run one after another; hooks that receive deliveries have unique names anyway (`uniqueHook`).
 */
const FILE_HOOKS = crypto.randomUUID().slice(0, 8);
const hookPath = (name: string) => `hooks/${FILE_HOOKS}-${name}`;

/** The test consumer started by globalSetup: hook URLs, behaviour and what each hook received. */
export const consumer = {
  url: (name: string) => `${inject("consumerUrl")}/${hookPath(name)}`,
  async configure(
    name: string,
    config: {
      secrets?: string[];
      /** `for_ms`: fail every request for that long from the first; `retry_after: "remaining"`: the seconds left. */
      fail?: { status: number; times?: number; for_ms?: number; retry_after?: string } | null;
      delay_ms?: number;
    },
  ) {
    const res = await fetch(`${inject("consumerUrl")}/__admin/${hookPath(name)}`, {
      method: "PUT",
      body: JSON.stringify(config),
    });
    expect(res.status).toBe(200);
  },
  async received(name: string): Promise<ReceivedDelivery[]> {
    return (await consumer.report(name)).received;
  },
  /** What the hook counted: every request, the most within any 1,000 ms, the most at once, its failure window. */
  async report(name: string): Promise<HookReport> {
    const res = await fetch(`${inject("consumerUrl")}/__admin/${hookPath(name)}`);
    return (await res.json()) as HookReport;
  },
};

interface HookReport {
  received: ReceivedDelivery[];
  max_per_second: number;
  max_concurrent: number;
  fail_window: { from: number; until: number } | null;
}

let hookSeq = 0;

/** A hook name no other test uses. */
const uniqueHook = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++hookSeq}`;

export interface CreatedEndpoint {
  id: string;
  secret: string;
  url: string;
  sources: string[];
  event_types: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
}

/** Creates an endpoint delivering to a fresh consumer hook that verifies with the endpoint's secret. */
export async function createHookEndpoint(
  w: WebhookEnv,
  body: {
    sources?: string[];
    event_types?: string[];
    description?: string;
    rate_limit?: number | null;
    max_in_flight?: number;
  } = {},
  auth?: string,
) {
  const hook = uniqueHook("hook");
  const { res, body: endpoint } = await callAppJson<CreatedEndpoint>(w, "/v1/webhook-endpoints", {
    method: "POST",
    json: { url: consumer.url(hook), ...body },
    ...(auth ? { auth } : {}),
  });
  expect(res.status, JSON.stringify(endpoint)).toBe(201);
  await consumer.configure(hook, { secrets: [endpoint.secret] });
  return { hook, endpoint };
}

/**
 * Asserts every delivery a hook received verified with the standardwebhooks package, and that its body matches
 * the payload schema the OpenAPI document publishes for its event type.
 */
export function expectAllVerified(received: ReceivedDelivery[]): void {
  expect(received.length).toBeGreaterThan(0);
  for (const r of received) {
    expect(r.verifiedBy, r.body.slice(0, 200)).not.toBeNull();
    expect(r.verifiedBy, r.body.slice(0, 200)).not.toEqual([]);
    const payload = payloadOf(r);
    eventPayloadSchemas[payload.type as EventType].parse(payload);
  }
}

/** The parsed payload of a received delivery. */
export const payloadOf = (r: ReceivedDelivery) =>
  JSON.parse(r.body) as {
    type: string;
    timestamp: string;
    sequence?: number;
    data: { object: { id: string; provider?: string; status: string }; previous: unknown };
  };

/** Hex HMAC-SHA256 of a body: the `Inkit-Signature` of an inbound Inkit webhook. */
export async function hmacHex(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(body)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** POSTs an inbound Inkit webhook with the given signature (none when null). */
export const postInkit = (w: WebhookEnv, body: string, signature: string | null) =>
  callApp(w, "/v1/inbound/inkit", {
    method: "POST",
    auth: false,
    body,
    headers: { "Content-Type": "application/json", ...(signature === null ? {} : { "Inkit-Signature": signature }) },
  });
