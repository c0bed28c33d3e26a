import { version } from "../../package.json";
import { type Config, configOf } from "../config";
import type { DeliveryMessage } from "../events/outbox";
import { newId } from "../shared/ids";
import { loggerOf } from "../shared/logger";
import { isoMicros } from "../shared/time";
import { timedOut } from "../upstream/timeout";
import {
  type AttemptRecord,
  abandonStatement,
  attemptStatements,
  type DeliveryToSend,
  deliveriesToSend,
  holdStatement,
} from "./delivery-store";
import {
  disableStatement,
  type EndpointRow,
  type EndpointWithSecrets,
  endpointsWithSecrets,
  endpointsWithSecretsStatement,
} from "./endpoint-store";
import { openSecrets } from "./endpoints";
import { type Answered, held, pace, pauseMsOf, WAIT_IN_PLACE_MS } from "./pacing";
import { queueDelay, remainingHop, retryAfterDelay, scheduledDelay } from "./schedule";
import { signatureHeader, signingKeys } from "./signing";
import { checkWebhookUrl } from "./url-safety";

/** What the endpoint answered, or why it did not. */
interface EndpointAnswer {
  status: number | null;
  retryAfter: string | null;
  error: string | null;
  durationMs: number;
}

type Outcome = "delivered" | "retrying" | "failed" | "endpoint_disabled";

const isMessage = (body: unknown): body is DeliveryMessage => {
  const m = body as Partial<DeliveryMessage> | null;
  return (
    typeof m?.event_id === "string" &&
    typeof m.endpoint_id === "string" &&
    Number.isInteger(m.attempt) &&
    Number.isInteger(m.generation)
  );
};

const USER_AGENT = `tributary-webhooks/${version}`;

/** POSTs the signed payload; never throws for what the endpoint or the network did. */
async function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<EndpointAnswer> {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    const durationMs = Date.now() - started;
    const redirect =
      res.status >= 300 && res.status < 400 ? `redirect to ${res.headers.get("Location") ?? "?"} not followed` : null;
    return { status: res.status, retryAfter: res.headers.get("Retry-After"), error: redirect, durationMs };
  } catch (err) {
    const durationMs = Date.now() - started;
    const error = timedOut(err)
      ? `no response within ${timeoutMs} ms`
      : `network error: ${err instanceof Error ? err.message : String(err)}`;
    return { status: null, retryAfter: null, error, durationMs };
  }
}

/** The headers of one attempt, signed now with every current secret's key. */
async function signedHeaders(eventId: string, payload: string, keys: CryptoKey[]): Promise<Record<string, string>> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    "Content-Type": "application/json",
    "User-Agent": USER_AGENT,
    "webhook-id": eventId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureHeader(eventId, timestamp, payload, keys),
  };
}

/** The next step after a failed attempt: a delay in seconds, or null when retries are exhausted. */
function nextDelay(m: DeliveryMessage, res: EndpointAnswer, now: number): number | null {
  const next = scheduledDelay(m.attempt + 1);
  if (next === null) return null;
  if (res.status === 429 || res.status === 503) return retryAfterDelay(res.retryAfter, now) ?? next;
  return next;
}

/** A message that is due and current, with what its POST needs. */
interface Job {
  m: DeliveryMessage;
  payload: string;
}

/**
 * What handling one endpoint's messages leaves to write, gathered so that it is written at once: D1 first (one batch,
 * one transaction), then the queue messages, then the messages are acknowledged.
 */
class Effects {
  readonly abandons: { m: DeliveryMessage; reason: string }[] = [];
  readonly holds: { m: DeliveryMessage; nextAt: string }[] = [];
  readonly attempts: AttemptRecord[] = [];
  /** The endpoint answered 410 Gone: it is disabled with the attempts. */
  gone = false;
  readonly queued: MessageSendRequest<DeliveryMessage>[] = [];
  readonly dead: MessageSendRequest<DeliveryMessage & { reason: string | null; endpoint_url: string }>[] = [];

  /** A message to send again after `delaySeconds` (a hop, a hold or a retry). */
  requeue(body: DeliveryMessage, delaySeconds: number) {
    this.queued.push({ body, delaySeconds, contentType: "json" });
  }

  /**
   * Writes everything, in this order. Why this keeps each delivery safe when the invocation dies midway: nothing is
   * acknowledged before all of it is written, so an unacknowledged message comes back and is judged again against the
   * stored delivery.
   * - Dies before the D1 batch commits: nothing is recorded (the batch is one transaction), every message comes back,
   *   and one whose POST was made is sent again: at least once, as for a POST in flight before; the consumer
   *   deduplicates on `webhook-id`. Nothing marked delivered can be lost: it was never marked.
   * - Dies after the commit: a delivery marked delivered stays so, and its message coming back is dropped (not
   *   pending), so it is never sent twice by us. A retry or hold whose queue message was not sent is pending with a
   *   `next_attempt_at`: the message that comes back no longer matches a retried one (its `next_attempt` moved on)
   *   and is dropped, and the cron's sweep of overdue deliveries sends the lost retry or hold again.
   * Within the batch, each delivery has at most one record (duplicate messages are dropped before), so the order of
   * its statements does not matter.
   */
  async commit(env: Env, endpoint: EndpointRow | undefined): Promise<void> {
    const db = env.DB;
    const now = isoMicros(Date.now());
    const statements = [
      ...this.abandons.map(({ m, reason }) => abandonStatement(db, m, reason, now)),
      ...(this.holds.length > 0 ? [holdStatement(db, this.holds)] : []),
      ...attemptStatements(db, this.attempts),
      ...(this.gone && endpoint ? [disableStatement(db, endpoint.id, "endpoint_gone", now)] : []),
    ];
    if (statements.length > 0) await db.batch(statements);
    if (this.queued.length > 0) await env.WEBHOOK_QUEUE.sendBatch(this.queued);
    if (this.dead.length > 0) await env.WEBHOOK_DLQ.sendBatch(this.dead);
  }
}

/** Records one attempt in `effects` and queues what follows it: delivered, retrying, failed, or endpoint disabled. */
function recordOutcome(
  effects: Effects,
  endpoint: EndpointRow,
  m: DeliveryMessage,
  res: EndpointAnswer,
  sentAt: number,
  now: number,
) {
  const ok = res.status !== null && res.status >= 200 && res.status < 300;
  const gone = res.status === 410;
  const delay = ok || gone ? null : nextDelay(m, res, now);
  const outcome: Outcome = ok ? "delivered" : gone ? "endpoint_disabled" : delay !== null ? "retrying" : "failed";
  const nextAt = delay === null ? null : isoMicros(now + delay * 1000);
  const error = ok ? null : (res.error ?? `HTTP ${res.status}`);
  const status = ok ? "delivered" : outcome === "retrying" ? "pending" : "failed";
  effects.attempts.push({
    attempt: {
      id: newId("att", sentAt),
      event_id: m.event_id,
      endpoint_id: m.endpoint_id,
      attempt: m.attempt,
      created_at: isoMicros(sentAt),
      duration_ms: res.durationMs,
      status_code: res.status,
      error,
      outcome,
      next_retry_at: nextAt,
    },
    status,
    generation: m.generation,
    now: isoMicros(now),
  });
  if (gone) effects.gone = true;
  if (delay !== null) {
    const hop = queueDelay(delay, now);
    const { due_at: _previousHop, ...base } = m;
    effects.requeue({ ...base, attempt: m.attempt + 1, ...(hop.dueAt ? { due_at: hop.dueAt } : {}) }, hop.delaySeconds);
  } else if (outcome === "failed") {
    effects.dead.push({ body: { ...m, reason: error, endpoint_url: endpoint.url }, contentType: "json" });
  }
}

/**
 * POSTs `jobs` to one endpoint, paced: slots for all of them are asked for in one round trip, the granted ones are
 * signed and sent at once, and their slots are given back in one round trip, which also asks again for the ones whose
 * wait was short enough to wait out in place (an answer that pauses the endpoint gives its slot back at once, alone).
 * The ones refused for longer are held (`effects.holds`). A failure of the
 * pacer stops it: the jobs not sent yet are returned, the attempts made stay in `effects`.
 */
async function sendPaced(
  env: Env,
  endpoint: EndpointRow,
  url: string,
  keys: CryptoKey[],
  jobs: Job[],
  timeoutMs: number,
  effects: Effects,
): Promise<{ unsent: Job[]; error: unknown }> {
  const deadline = Date.now() + WAIT_IN_PLACE_MS;
  let waiting = jobs;
  let answered: Answered[] = [];
  do {
    let answer: Awaited<ReturnType<typeof pace>>;
    try {
      answer = await pace(env, endpoint, timeoutMs, answered, waiting.length, deadline);
    } catch (error) {
      return { unsent: waiting, error };
    }
    const granted = waiting.slice(0, answer.leases.length);
    // A pacer answers `pending` only beside a grant; were it to answer nothing at all, the rest are held a second.
    const away = answer.leases.length === 0 && answer.away.length === 0 ? waiting.length : answer.away.length;
    const now = Date.now();
    for (const [i, job] of waiting.slice(granted.length, granted.length + away).entries()) {
      const h = held(job.m, answer.away[i]?.waitMs ?? 0, now);
      effects.holds.push({ m: job.m, nextAt: isoMicros(h.nextAt) });
      effects.requeue(h.message, h.delaySeconds);
    }
    waiting = waiting.slice(granted.length + away);
    const results = await Promise.all(
      granted.map(async (job, i): Promise<Answered | null> => {
        const sentAt = Date.now();
        const res = await post(url, await signedHeaders(job.m.event_id, job.payload, keys), job.payload, timeoutMs);
        const answeredAt = Date.now();
        recordOutcome(effects, endpoint, job.m, res, sentAt, answeredAt);
        const given = { lease: answer.leases[i] ?? "", status: res.status, retryAfter: res.retryAfter, answeredAt };
        if (pauseMsOf(given) === null) return given;
        // An answer that pauses the endpoint is given back at once, not with the group: the pause must stop every
        // invocation's deliveries from now on, not from the group's slowest answer. Failing that, with the group.
        try {
          await pace(env, endpoint, timeoutMs, [given], 0, deadline);
          return null;
        } catch {
          return given;
        }
      }),
    );
    answered = results.filter((a) => a !== null);
  } while (waiting.length > 0 || answered.length > 0);
  return { unsent: [], error: null };
}

/** What a batch's messages find in D1: their deliveries (with payloads) and their endpoints (with secrets). */
interface BatchRead {
  deliveries: Map<string, DeliveryToSend>;
  endpoints: Map<string, EndpointWithSecrets>;
}

const keyOf = (d: { event_id: string; endpoint_id: string }) => `${d.event_id}\u0000${d.endpoint_id}`;

/** One D1 round trip for the whole batch: every delivery with its payload, every endpoint with its current secrets. */
async function readBatch(db: D1Database, messages: DeliveryMessage[]): Promise<BatchRead> {
  const endpointIds = [...new Set(messages.map((m) => m.endpoint_id))];
  const [deliveries, endpoints] = await db.batch<Record<string, unknown>>([
    deliveriesToSend(db, messages),
    endpointsWithSecretsStatement(db, endpointIds, isoMicros(Date.now())),
  ]);
  return {
    deliveries: new Map(((deliveries?.results ?? []) as unknown as DeliveryToSend[]).map((d) => [keyOf(d), d])),
    endpoints: endpointsWithSecrets(
      (endpoints?.results ?? []) as unknown as (EndpointRow & { secret_ciphertext: string | null })[],
    ),
  };
}

/**
 * Handles one endpoint's messages of a batch: for each, one signed attempt to deliver its event, once the endpoint's
 * pacer gives it a slot (else held: the same message queued again for later, see pacing.ts), recorded, then either
 * delivered, retried later (a new message with the next attempt number and the schedule's or the endpoint's
 * Retry-After delay), or given up (dead-letter queue). Messages that no longer match their delivery (already
 * delivered, replayed since, or a duplicate) are dropped. Returns the messages to retry: those our own failures (D1,
 * Queues, the pacer) left unhandled; throws when nothing of the group can be trusted to be written.
 */
async function deliverGroup(
  env: Env,
  config: Config,
  read: BatchRead,
  endpointId: string,
  messages: DeliveryMessage[],
): Promise<{ retry: DeliveryMessage[]; error: unknown }> {
  const now = Date.now();
  const found = read.endpoints.get(endpointId);
  const endpoint = found?.row;
  const effects = new Effects();
  const jobs: Job[] = [];
  const verdict = endpoint ? checkWebhookUrl(endpoint.url, config.allowInsecureWebhookUrls) : null;
  for (const m of messages) {
    const delivery = read.deliveries.get(keyOf(m));
    const current = delivery?.status === "pending" && delivery.generation === m.generation;
    if (!current || delivery.next_attempt !== m.attempt) continue;
    const wait = remainingHop(m, now);
    // Another hop of a wait longer than the queue's 12-hour delay cap: same attempt, remaining delay.
    if (wait !== null) effects.requeue(m, wait);
    else if (!endpoint) effects.abandons.push({ m, reason: "endpoint deleted" });
    else if (endpoint.enabled !== 1) effects.abandons.push({ m, reason: "endpoint disabled" });
    else if (verdict && !verdict.ok) effects.abandons.push({ m, reason: `url refused: ${verdict.reason}` });
    else if (delivery.payload === null) effects.abandons.push({ m, reason: "event not found" });
    else jobs.push({ m, payload: delivery.payload });
  }
  let outcome: { unsent: Job[]; error: unknown } = { unsent: [], error: null };
  if (endpoint && verdict?.ok && jobs.length > 0) {
    try {
      const master = config.webhookEncryptionKey;
      if (!master) throw new Error("WEBHOOK_ENCRYPTION_KEY is not configured");
      const ciphertexts = found?.ciphertexts ?? [];
      if (ciphertexts.length === 0) throw new Error(`endpoint ${endpoint.id} has no signing secret`);
      // Unsealed and imported once for the group, not once per message.
      const keys = await signingKeys(await openSecrets(master, endpoint.id, ciphertexts));
      outcome = await sendPaced(env, endpoint, verdict.url, keys, jobs, config.webhookTimeoutMs, effects);
    } catch (error) {
      outcome = { unsent: jobs, error };
    }
  }
  await effects.commit(env, endpoint);
  return { retry: outcome.unsent.map((j) => j.m), error: outcome.error };
}

/** Messages by endpoint, in batch order. */
function byEndpoint(messages: DeliveryMessage[]): Map<string, DeliveryMessage[]> {
  const groups = new Map<string, DeliveryMessage[]>();
  for (const m of messages) {
    const group = groups.get(m.endpoint_id);
    if (group) group.push(m);
    else groups.set(m.endpoint_id, [m]);
  }
  return groups;
}

/**
 * The queue consumer: the batch's deliveries and endpoints are read at once, then each endpoint's messages are
 * handled together (its pacer asked once for all of them, its outcomes written in one D1 batch). Each message is
 * acknowledged once handled (whatever the endpoint answered: retries are new messages) and explicitly retried only
 * when our own storage, queue or pacer failed.
 */
export async function handleDeliveryBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const byKey = new Map<string, Message<unknown>[]>();
  const messages: DeliveryMessage[] = [];
  for (const message of batch.messages) {
    const body = message.body;
    if (!isMessage(body)) {
      loggerOf(env).error("malformed delivery message dropped", { id: message.id });
      message.ack();
      continue;
    }
    // The same attempt twice in a batch (a redelivered duplicate) is one attempt: the copies share its fate.
    const key = `${keyOf(body)}\u0000${body.generation}\u0000${body.attempt}\u0000${body.due_at ?? ""}`;
    const copies = byKey.get(key);
    if (copies) copies.push(message);
    else {
      byKey.set(key, [message]);
      messages.push(body);
    }
  }
  if (messages.length === 0) return;
  const copiesOf = (m: DeliveryMessage) =>
    byKey.get(`${keyOf(m)}\u0000${m.generation}\u0000${m.attempt}\u0000${m.due_at ?? ""}`) ?? [];
  const retry = (m: DeliveryMessage, err: unknown) => {
    for (const message of copiesOf(m)) {
      loggerOf(env).error("delivery failed internally", { id: message.id, error: String(err) });
      message.retry({ delaySeconds: 30 });
    }
  };

  let read: BatchRead;
  try {
    read = await readBatch(env.DB, messages);
  } catch (err) {
    for (const m of messages) retry(m, err);
    return;
  }
  const config = configOf(env);
  await Promise.all(
    [...byEndpoint(messages)].map(async ([endpointId, group]) => {
      try {
        const done = await deliverGroup(env, config, read, endpointId, group);
        // Every attempt was made and written, but giving the slots back failed: they lapse after the lease.
        if (done.error && done.retry.length === 0)
          loggerOf(env).warn("pacer release failed", { endpoint_id: endpointId, error: String(done.error) });
        const again = new Set(done.retry);
        for (const m of group) {
          if (again.has(m)) retry(m, done.error);
          else for (const message of copiesOf(m)) message.ack();
        }
      } catch (err) {
        for (const m of group) retry(m, err);
      }
    }),
  );
}
