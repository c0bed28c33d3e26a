import type { DeliveryAttempt } from "../schemas/events";
import type { AttemptRow } from "./delivery-store";

/** The API shape of a delivery attempt row. */

export const toAttempt = (row: AttemptRow): DeliveryAttempt => ({
  id: row.id,
  event_id: row.event_id,
  endpoint_id: row.endpoint_id,
  attempt: row.attempt,
  created_at: row.created_at,
  duration_ms: row.duration_ms,
  status_code: row.status_code,
  error: row.error,
  outcome: row.outcome,
  next_retry_at: row.next_retry_at,
});
