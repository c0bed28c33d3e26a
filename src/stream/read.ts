/**
 * The pull stream (GET /v1/event-stream): a tenant's events oldest first in commit order (`position`, see
 * migrations/0004), resumable by a cursor that never ends the stream: at its end it points where the next event
 * will be, so a consumer polls with it later.
 */

import { toEvent } from "../events/model";
import type { EventRecord } from "../schemas/events";
import { ProblemError } from "../shared/problem";
import type { SigningKey } from "../shared/signed-token";
import { isoMicros } from "../shared/time";
import { resumedFilters, signStreamCursor, streamBinding, verifyStreamCursor } from "./cursor";
import { eventsAfter, oldestEventTime, positionBefore, type StreamFilters } from "./store";

const DEFAULT_STREAM_LIMIT = 100;

interface StreamRequest {
  /** The caller's API key id: its events only. */
  tenant: string;
  keys: SigningKey[];
  cursor: string | undefined;
  /** Start at the first event created at or after this instant (RFC 3339, canonical); without a cursor only. */
  since: string | undefined;
  limit: number | undefined;
  /** The filters sent (canonical). */
  filters: StreamFilters;
  /** `WEBHOOK_RETENTION_DAYS`, named by the problem of a position older than retention. */
  retentionDays: number;
}

interface StreamBody {
  data: EventRecord[];
  page: { limit: number; has_more: boolean; next_cursor: string; prev_cursor: null; total: null };
}

/**
 * One page of the stream from position `from`, given up to `limit + 1` rows after it and the counter's `last`
 * position read with them: its items, whether more follow, and the position the next page starts after. A page
 * that is not full read everything committed up to `last`, so the next one starts there: a consumer of a quiet
 * filter keeps up with the counter instead of standing still until retention passes it.
 * @example streamPage([{ position: 4 }, { position: 9 }], 1, 0, 12) // { items: [{ position: 4 }], hasMore: true, next: 4 }
 */
export function streamPage<R extends { position: number }>(rows: R[], limit: number, from: number, last: number) {
  const items = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  const read = items.at(-1)?.position ?? from;
  return { items, hasMore, next: hasMore ? read : Math.max(read, last) };
}

/** Reads one page of the caller's stream and signs the cursor to resume it with. */
export async function readStream(db: D1Database, req: StreamRequest): Promise<StreamBody> {
  const caller = await streamBinding(req.tenant);
  const resumed = req.cursor === undefined ? null : await verifyStreamCursor(req.cursor, req.keys);
  const filters = resumed ? resumedFilters(resumed, caller, req.filters) : req.filters;
  const limit = req.limit ?? resumed?.limit ?? DEFAULT_STREAM_LIMIT;
  const from = resumed
    ? resumed.position
    : req.since === undefined
      ? 0
      : await positionBefore(db, req.tenant, filters, req.since);
  const { rows, counter } = await eventsAfter(db, req.tenant, filters, from, limit + 1);
  if (resumed && from < counter.pruned) throw await positionExpired(db, req);
  if (from > counter.last) {
    throw new ProblemError("invalid-cursor", {
      detail: "This cursor is ahead of the stream (was the database restored?). Restart it with `since`.",
    });
  }
  const page = streamPage(rows, limit, from, counter.last);
  const next = await signStreamCursor({ caller, filters, limit, position: page.next }, req.keys);
  return {
    data: page.items.map(toEvent),
    page: { limit, has_more: page.hasMore, next_cursor: next, prev_cursor: null, total: null },
  };
}

/** The 410 of a position older than retention, with the `since` to restart at: the caller's oldest event kept. */
async function positionExpired(db: D1Database, req: StreamRequest): Promise<ProblemError> {
  const days = req.retentionDays;
  const since = (await oldestEventTime(db, req.tenant)) ?? isoMicros(Date.now() - days * 86_400_000);
  return new ProblemError("stream-position-expired", {
    detail: `Events after this cursor's position were deleted: it is older than the event retention (WEBHOOK_RETENTION_DAYS = ${days} days). Restart the stream with since=${since} (your oldest event still kept) and the same filters, and skip the event ids you have already processed.`,
    extensions: { since, retention_days: days },
  });
}
