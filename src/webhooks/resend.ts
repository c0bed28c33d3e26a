import { toRfc3339 } from "../providers/time";
import { type EndpointRow, subscribes } from "./endpoints";
import { isoMicros, newId } from "./ids";
import {
  DELIVERY_COLUMNS,
  deliveryValues,
  EVENT_COLUMNS,
  type EventRow,
  enqueue,
  eventPayload,
  eventValues,
  insertMany,
} from "./log";
import type { DeliveryMessage } from "./schedule";

/** Most events one replay request queues; replay again with a later `since` for more. */
export const MAX_REPLAY = 1000;

/** Records a `ping` event for one endpoint and queues its delivery; returns the event id. */
export async function sendPing(env: Env, endpoint: EndpointRow): Promise<string> {
  const db = env.DB;
  const now = isoMicros(Date.now());
  const event: EventRow = {
    id: newId("evt"),
    tenant: endpoint.tenant,
    type: "ping",
    source: null,
    object_id: endpoint.id,
    created_at: now,
    sequence: null,
    payload: eventPayload(
      "ping",
      now,
      { endpoint_id: endpoint.id, url: endpoint.url, message: "Test event from tributary." },
      null,
      null,
    ),
  };
  await db.batch([
    ...insertMany(db, "events", EVENT_COLUMNS, [eventValues(event)]),
    ...insertMany(db, "deliveries", DELIVERY_COLUMNS, [deliveryValues(event.id, endpoint.id, endpoint.tenant, now)]),
  ]);
  await enqueue(env.WEBHOOK_QUEUE, [{ event_id: event.id, endpoint_id: endpoint.id, attempt: 1, generation: 1 }]);
  return event.id;
}

interface Candidate {
  id: string;
  type: string;
  source: string | null;
  object_id: string;
  generation: number | null;
  status: string | null;
}

/**
 * Queues again every event in [since, until] that the endpoint subscribes to and has not received: failed and
 * exhausted deliveries, deliveries still waiting for a retry (they restart now, as a new generation: the waiting
 * message is then dropped), and events recorded while the endpoint was disabled. The `webhook-id` stays the event
 * id. Returns the ids queued, newest first.
 */
export async function replayMissed(env: Env, endpoint: EndpointRow, since: string, until: string | undefined) {
  const db = env.DB;
  const from = toRfc3339(since);
  const to = until === undefined ? isoMicros(Date.now()) : toRfc3339(until);
  const sources = JSON.parse(endpoint.sources) as string[];
  const { results } = await db
    .prepare(
      `SELECT e.id, e.type, e.source, e.object_id, d.generation, d.status
       FROM events e LEFT JOIN deliveries d ON d.event_id = e.id AND d.endpoint_id = ?
       WHERE e.tenant = ? AND e.created_at >= ? AND e.created_at <= ? AND e.type != 'ping'
         AND (d.status IS NULL OR d.status != 'delivered')
         AND e.source IN (SELECT value FROM json_each(?))
       ORDER BY e.created_at DESC, e.id DESC LIMIT ?`,
    )
    .bind(endpoint.id, endpoint.tenant, from, to, JSON.stringify(sources), MAX_REPLAY)
    .all<Candidate>();
  const chosen = results.filter((e) => subscribes(endpoint, e.type));
  const now = isoMicros(Date.now());
  const messages: DeliveryMessage[] = chosen.map((e) => ({
    event_id: e.id,
    endpoint_id: endpoint.id,
    attempt: 1,
    generation: (e.generation ?? 0) + 1,
  }));
  const fresh = chosen.filter((e) => e.generation === null);
  const again = chosen.filter((e) => e.generation !== null);
  const statements = [
    ...insertMany(
      db,
      "deliveries",
      DELIVERY_COLUMNS,
      fresh.map((e) => deliveryValues(e.id, endpoint.id, endpoint.tenant, now)),
    ),
  ];
  if (again.length > 0) {
    statements.push(
      db
        .prepare(
          `UPDATE deliveries SET status = 'pending', generation = generation + 1, next_attempt = 1, next_attempt_at = ?, updated_at = ?
           WHERE endpoint_id = ? AND event_id IN (SELECT value FROM json_each(?))`,
        )
        .bind(now, now, endpoint.id, JSON.stringify(again.map((e) => e.id))),
    );
  }
  if (statements.length > 0) await db.batch(statements);
  await enqueue(env.WEBHOOK_QUEUE, messages);
  return chosen.map((e) => e.id);
}
