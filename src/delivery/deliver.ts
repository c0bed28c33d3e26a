import { version } from "../../package.json";
import { configOf } from "../config";
import type { DeliveryMessage } from "../events/outbox";
import { storedEventBody } from "../events/store";
import { newId } from "../shared/ids";
import { loggerOf } from "../shared/logger";
import { isoMicros } from "../shared/time";
import { timedOut } from "../upstream/timeout";
import { abandonDelivery, findDelivery, recordAttempt } from "./delivery-store";
import { disableStatement, type EndpointRow, endpointById } from "./endpoint-store";
import { signingSecrets } from "./endpoints";
import { acquireSlot, hold, releaseSlot } from "./pacing";
import { queueDelay, remainingHop, retryAfterDelay, scheduledDelay } from "./schedule";
import { signatureHeader } from "./signing";
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

/** Marks a delivery failed without an HTTP attempt (endpoint gone, disabled or unusable). */
const abandon = (db: D1Database, m: DeliveryMessage, reason: string) =>
  abandonDelivery(db, m, reason, isoMicros(Date.now()));

/** The next step after a failed attempt: a delay in seconds, or null when retries are exhausted. */
function nextDelay(m: DeliveryMessage, res: EndpointAnswer, now: number): number | null {
  const next = scheduledDelay(m.attempt + 1);
  if (next === null) return null;
  if (res.status === 429 || res.status === 503) return retryAfterDelay(res.retryAfter, now) ?? next;
  return next;
}

/**
 * Handles one queue message: one signed attempt to deliver one event to one endpoint, once the endpoint's pacer
 * gives it a slot (else held: the same message queued again for later, see pacing.ts), recorded, then either
 * delivered, retried later (a new message with the next attempt number and the schedule's or the endpoint's
 * Retry-After delay), or given up (dead-letter queue). Messages that no longer match their delivery (already
 * delivered, replayed since, or a duplicate) are dropped. Throws only on our own failures (D1, Queues), so the
 * caller can retry the message.
 */
async function deliver(env: Env, m: DeliveryMessage): Promise<void> {
  const db = env.DB;
  const delivery = await findDelivery(db, m.event_id, m.endpoint_id);
  const current = delivery?.status === "pending" && delivery.generation === m.generation;
  if (!current || delivery.next_attempt !== m.attempt) return;

  const wait = remainingHop(m, Date.now());
  if (wait !== null) {
    // Another hop of a wait longer than the queue's 12-hour delay cap: same attempt, remaining delay.
    await env.WEBHOOK_QUEUE.send(m, { delaySeconds: wait, contentType: "json" });
    return;
  }

  const endpoint = await endpointById(db, m.endpoint_id);
  if (!endpoint) return abandon(db, m, "endpoint deleted");
  if (endpoint.enabled !== 1) return abandon(db, m, "endpoint disabled");
  const config = configOf(env);
  const verdict = checkWebhookUrl(endpoint.url, config.allowInsecureWebhookUrls);
  if (!verdict.ok) return abandon(db, m, `url refused: ${verdict.reason}`);
  const payload = await storedEventBody(db, m.event_id);
  if (payload === null) return abandon(db, m, "event not found");

  const master = config.webhookEncryptionKey;
  if (!master) throw new Error("WEBHOOK_ENCRYPTION_KEY is not configured");
  const secrets = await signingSecrets(db, master, endpoint.id);
  if (secrets.length === 0) throw new Error(`endpoint ${endpoint.id} has no signing secret`);

  // Paced: a slot from the endpoint's pacer, asked for last, so the POST follows the grant closely.
  const slot = await acquireSlot(env, endpoint, config.webhookTimeoutMs);
  if (!slot.granted) return hold(env, m, slot.waitMs, Date.now());
  const sentAt = Date.now();
  let res: EndpointAnswer = { status: null, retryAfter: null, error: "not sent", durationMs: 0 };
  try {
    res = await post(verdict.url, await signedHeaders(m.event_id, payload, secrets), payload, config.webhookTimeoutMs);
  } finally {
    await releaseSlot(env, endpoint.id, slot.lease, res, Date.now());
  }
  await recordOutcome(env, endpoint, m, res, sentAt);
}

/** The headers of one attempt, signed now with every current secret. */
async function signedHeaders(eventId: string, payload: string, secrets: string[]): Promise<Record<string, string>> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    "Content-Type": "application/json",
    "User-Agent": `tributary-webhooks/${version}`,
    "webhook-id": eventId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureHeader(eventId, timestamp, payload, secrets),
  };
}

/** Records the attempt and moves the delivery on: delivered, retrying, failed, or endpoint disabled (410). */
async function recordOutcome(env: Env, endpoint: EndpointRow, m: DeliveryMessage, res: EndpointAnswer, sentAt: number) {
  const db = env.DB;
  const now = Date.now();
  const ok = res.status !== null && res.status >= 200 && res.status < 300;
  const gone = res.status === 410;
  const delay = ok || gone ? null : nextDelay(m, res, now);
  const outcome: Outcome = ok ? "delivered" : gone ? "endpoint_disabled" : delay !== null ? "retrying" : "failed";
  const nextAt = delay === null ? null : isoMicros(now + delay * 1000);
  const error = ok ? null : (res.error ?? `HTTP ${res.status}`);
  const status = ok ? "delivered" : outcome === "retrying" ? "pending" : "failed";

  await recordAttempt(
    db,
    {
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
    },
    gone ? [disableStatement(db, endpoint.id, "endpoint_gone", isoMicros(Date.now()))] : [],
  );

  if (delay !== null) {
    const hop = queueDelay(delay, now);
    const { due_at: _previousHop, ...base } = m;
    const next: DeliveryMessage = { ...base, attempt: m.attempt + 1, ...(hop.dueAt ? { due_at: hop.dueAt } : {}) };
    await env.WEBHOOK_QUEUE.send(next, { delaySeconds: hop.delaySeconds, contentType: "json" });
    return;
  }
  if (outcome === "failed") {
    await env.WEBHOOK_DLQ.send({ ...m, reason: error, endpoint_url: endpoint.url }, { contentType: "json" });
  }
}

/**
 * The queue consumer: each message is acknowledged once handled (whatever the endpoint answered: retries are new
 * messages) and explicitly retried only when our own storage or queue failed.
 */
export async function handleDeliveryBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!isMessage(message.body)) {
        loggerOf(env).error("malformed delivery message dropped", { id: message.id });
        message.ack();
        return;
      }
      try {
        await deliver(env, message.body);
        message.ack();
      } catch (err) {
        loggerOf(env).error("delivery failed internally", { id: message.id, error: String(err) });
        message.retry({ delaySeconds: 30 });
      }
    }),
  );
}
