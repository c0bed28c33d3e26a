import type { EventRecord, EventType, UnwatchReason } from "../schemas/events";
import type { EventRow } from "./store";

/**
 * The delivered body of an event: exactly `{type, timestamp, sequence, data: {object, previous}}`, without
 * `sequence` for ping, and with `data.reason` on `*.unwatched`. Stored once, so every retry and replay sends the same
 * bytes and the same sequence.
 */
export function eventPayload(
  type: EventType,
  timestamp: string,
  object: unknown,
  previous: unknown,
  sequence: number | null,
  reason?: UnwatchReason,
): string {
  const data = reason === undefined ? { object, previous } : { object, previous, reason };
  return JSON.stringify({ type, timestamp, ...(sequence === null ? {} : { sequence }), data });
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
