/**
 * The event model: how an event is minted (its id and its body, stored once) and the API shape it is read back in.
 * Every event, whether detection saw a change or a caller asked for a ping, is minted by `mintEvent`.
 */
import type { EventRecord, EventType, UnwatchReason } from "../schemas/events";
import { newId } from "../shared/ids";
import type { EventRow } from "./store";

/**
 * The delivered body of an event: exactly `{type, timestamp, sequence, data: {object, previous}}`, without
 * `sequence` for ping, and with `data.reason` on `*.unwatched`. Stored once, so every retry and replay sends the same
 * bytes and the same sequence. `objectJson`: the object already serialized (`JSON.stringify(object)`), when the caller
 * has it: the body is then built around it, byte for byte what serializing the whole body would give.
 */
export function eventBody(
  type: EventType,
  timestamp: string,
  object: unknown,
  previous: unknown,
  sequence: number | null,
  reason?: UnwatchReason,
  objectJson: string | undefined = JSON.stringify(object),
): string {
  const data = jsonObject([
    ["object", objectJson],
    ["previous", JSON.stringify(previous)],
    ["reason", JSON.stringify(reason)],
  ]);
  return jsonObject([
    ["type", JSON.stringify(type)],
    ["timestamp", JSON.stringify(timestamp)],
    ["sequence", sequence === null ? undefined : JSON.stringify(sequence)],
    ["data", data],
  ]);
}

/**
 * An object's JSON from its members' JSON, as JSON.stringify writes it: in order, without the members whose value
 * has no JSON (undefined).
 */
function jsonObject(members: [string, string | undefined][]): string {
  const written = members.filter((m): m is [string, string] => m[1] !== undefined);
  return `{${written.map(([name, json]) => `${JSON.stringify(name)}:${json}`).join(",")}}`;
}

/** What an event says, before it has an id. */
interface EventFacts {
  /** Whose event it is: one tenant's copy of a change. */
  tenant: string;
  type: EventType;
  /** The canonical source key it was seen on; null for ping. */
  source: string | null;
  /** The id of the item (or endpoint, for ping) it is about. */
  objectId: string;
  object: unknown;
  /** `JSON.stringify(object)`, when the caller has it already (see `eventBody`). */
  objectJson?: string;
  previous: unknown;
  /** Per source, strictly increasing; null for ping. */
  sequence: number | null;
  /** Set on `*.unwatched`. */
  reason?: UnwatchReason;
  /** When it is recorded: its `created_at` and the body's `timestamp`. */
  now: string;
}

/**
 * A new event row: a fresh time-ordered id, and the body every attempt and replay will send, byte for byte.
 * @example mintEvent({ tenant, type: "run.created", source: "inkit:runs", objectId: run.id, object: run, previous: null, sequence: 7, now })
 */
export function mintEvent(e: EventFacts): EventRow {
  return {
    id: newId("evt"),
    tenant: e.tenant,
    type: e.type,
    source: e.source,
    object_id: e.objectId,
    created_at: e.now,
    sequence: e.sequence,
    payload: eventBody(e.type, e.now, e.object, e.previous, e.sequence, e.reason, e.objectJson),
  };
}

/** The API shape of an event row. */
export function toEvent(row: EventRow): EventRecord {
  const payload = JSON.parse(row.payload) as { data: EventRecord["data"] };
  return {
    id: row.id,
    type: row.type,
    source: row.source,
    created_at: row.created_at,
    sequence: row.sequence,
    data: payload.data,
  };
}
