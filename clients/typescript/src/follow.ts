import type { TributaryClient } from "./client.js";
import { getPage } from "./paginate.js";
import { parseRetryAfter, type RetryOptions, sleep } from "./retry.js";
import type { components, operations } from "./schema.js";

/** An event, as the event log and the event stream answer it. */
export type Event = components["schemas"]["Event"];

type StreamQuery = NonNullable<operations["readEventStream"]["parameters"]["query"]>;
type StreamPage = components["schemas"]["EventStream"];

/** Where and how to follow the event stream, and how to wait out 429 and 503 (see `RetryOptions`). */
export interface FollowEventsOptions extends RetryOptions {
  /** Resume here: a `cursor` you persisted. Without it the stream starts at `since`, or at the oldest event kept. */
  cursor?: string;
  /** Start at the first event created at or after this instant (RFC 3339); ignored with `cursor`. */
  since?: string;
  type?: StreamQuery["type"];
  /** A source key, e.g. `inkit:runs`. */
  source?: string;
  /** Events per request, 1..500 (default 100). */
  limit?: number;
  /** How long to wait at the end of the stream when the answer carries no `Retry-After`. Default 30 000. */
  pollIntervalMs?: number;
  /**
   * Called with the page's `next_cursor` once every event of the page was handled, also after an empty poll at the
   * end of the stream: persist it to resume after everything so far, even while no events come.
   */
  onCursor?: (cursor: string) => void;
}

/** One event, and the cursor to persist once you have handled it. */
export interface FollowedEvent {
  event: Event;
  /**
   * Resuming with it never skips an event after this one. It may repeat the rest of this event's page (only the
   * last event of a page carries the page's own `next_cursor`), so deduplicate on `event.id`. Null on a first
   * page requested without a cursor: resume the way you started.
   */
  cursor: string | null;
}

/**
 * Follows `GET /v1/event-stream`: every event of your API key, oldest first in commit order, then new ones as they
 * come. At the end of the stream it waits as `Retry-After` asks (else `pollIntervalMs`) and polls again with
 * `next_cursor`; it waits out 429 and 503 like `paginate`. Aborting `signal` ends the iteration quietly, also in
 * the middle of a wait or a request; any other failure throws a ProblemError (e.g. `stream-position-expired`).
 * @example
 * for await (const { event, cursor } of followEvents(client, { cursor: saved, signal })) {
 *   await handle(event);
 *   if (cursor) await save(cursor);
 * }
 */
export async function* followEvents(
  client: TributaryClient,
  options: FollowEventsOptions = {},
): AsyncGenerator<FollowedEvent, void> {
  const { cursor: start, since, type, source, limit, pollIntervalMs = 30_000, onCursor, ...retry } = options;
  let cursor = start ?? null;
  const defined = (query: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
  try {
    for (;;) {
      // The cursor carries the filters: later requests send only it (and the limit, which may change).
      const query = cursor === null ? defined({ since, type, source, limit }) : defined({ cursor, limit });
      const { page, response } = await getPage(client, "/v1/event-stream", { params: { query } }, retry);
      const { data: events, page: info } = page as StreamPage;
      for (const [i, event] of events.entries()) {
        yield { event, cursor: i === events.length - 1 ? info.next_cursor : cursor };
      }
      cursor = info.next_cursor;
      onCursor?.(cursor);
      if (!info.has_more) {
        await sleep(parseRetryAfter(response.headers.get("Retry-After")) ?? pollIntervalMs, retry.signal);
      }
    }
  } catch (err) {
    if (retry.signal?.aborted) return;
    throw err;
  }
}
