import { mintEvent } from "../events/model";
import type { DeliveryMessage } from "../events/outbox";
import { recordAndQueue } from "../events/record";
import { subscribes } from "../events/subscribes";
import { isoMicros, toRfc3339 } from "../shared/time";
import { type AnswerStatements, noAnswer } from "../storage/answer-statements";
import { replayCandidates, restartStatement } from "./delivery-store";
import type { EndpointRow } from "./endpoint-store";

/** Most events one replay request queues; replay again with a later `since` for more. */
const MAX_REPLAY = 1000;

/** Records a `ping` event for one endpoint and queues its delivery; returns the event id. `answer` commits with it. */
export async function sendPing(env: Env, endpoint: EndpointRow, answer: AnswerStatements<string> = noAnswer) {
  const now = isoMicros(Date.now());
  const event = mintEvent({
    tenant: endpoint.tenant,
    type: "ping",
    source: null,
    objectId: endpoint.id,
    object: { endpoint_id: endpoint.id, url: endpoint.url, message: "Test event from tributary." },
    previous: null,
    sequence: null,
    now,
  });
  await recordAndQueue(env, {
    alongside: await answer(event.id),
    events: [event],
    deliveries: [{ event_id: event.id, endpoint_id: endpoint.id, tenant: endpoint.tenant }],
    now,
  });
  return event.id;
}

/**
 * Queues again every event in [since, until] that the endpoint subscribes to and has not received: failed and
 * exhausted deliveries, deliveries still waiting for a retry (they restart now, as a new generation: the waiting
 * message is then dropped), and events recorded while the endpoint was disabled. The `webhook-id` stays the event
 * id. Returns the ids queued, newest first. `answer` commits with them.
 */
export async function replayMissed(
  env: Env,
  endpoint: EndpointRow,
  window: { since: string; until: string | undefined },
  answer: AnswerStatements<string[]> = noAnswer,
) {
  const { since, until } = window;
  const from = toRfc3339(since);
  const to = until === undefined ? isoMicros(Date.now()) : toRfc3339(until);
  const candidates = await replayCandidates(env.DB, endpoint, from, to, MAX_REPLAY);
  const chosen = candidates.filter((e) => subscribes(endpoint, e.type));
  const now = isoMicros(Date.now());
  const messages: DeliveryMessage[] = chosen.map((e) => ({
    event_id: e.id,
    endpoint_id: endpoint.id,
    attempt: 1,
    generation: (e.generation ?? 0) + 1,
  }));
  const again = chosen.filter((e) => e.generation !== null).map((e) => e.id);
  const ids = chosen.map((e) => e.id);
  await recordAndQueue(env, {
    alongside: [
      ...(again.length > 0 ? [restartStatement(env.DB, endpoint.id, again, now)] : []),
      ...(await answer(ids)),
    ],
    deliveries: chosen
      .filter((e) => e.generation === null)
      .map((e) => ({ event_id: e.id, endpoint_id: endpoint.id, tenant: endpoint.tenant })),
    messages,
    now,
  });
  return ids;
}
