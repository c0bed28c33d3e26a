import { createRoute, z } from "@hono/zod-openapi";
import { EventSchema } from "../../schemas/events";
import { eventFilterShape, instantFilter } from "../../schemas/filters";
import {
  cursorParam,
  limitParam,
  linkHeaderDoc,
  listEnvelope,
  notModifiedResponse,
  PageSchema,
} from "../../schemas/page";
import { authErrorResponses, problemResponseFor, storageErrorResponses } from "../../schemas/problem";
import { conditionalHeaders } from "../resource.routes";

const CURSOR_DOC = [
  "Opaque cursor from `page.next_cursor`: resumes the stream right after the last event you read. It carries the",
  "filters and limit, so they may be omitted; if sent, they must match. It is bound to your API key and does not",
  "expire with time: it stays good until retention deletes events after its position (`stream-position-expired`).",
].join(" ");

const query = z
  .strictObject({
    limit: limitParam("Events per page, 1..500. Default 100, or the limit of the page that issued the cursor.", 100),
    cursor: cursorParam(CURSOR_DOC),
    since: instantFilter(
      "since",
      "Start at the first event created at or after this instant (RFC 3339), instead of the oldest event kept. Only without `cursor`.",
    ),
    type: eventFilterShape.type,
    source: eventFilterShape.source,
  })
  .refine((q) => q.cursor === undefined || q.since === undefined, {
    path: ["since"],
    message: "`since` starts a stream and `cursor` resumes one: send only one of them.",
  });

const StreamPageSchema = PageSchema.extend({
  has_more: z.boolean().openapi({
    description:
      "Whether more events follow right now. False at the end of the stream, where `next_cursor` is for polling later.",
  }),
  next_cursor: z.string().openapi({
    description:
      "Cursor for the next page. Never null: at the end of the stream it is where the next event will be, to poll with later.",
  }),
  prev_cursor: z.null().openapi({ description: "Always null: the stream is read forward only." }),
  total: z.null().openapi({ description: "Always null." }),
}).openapi("EventStreamPage");

const retryAfter = {
  description:
    "Only when `has_more` is false (you are at the end): seconds to wait before polling again with `next_cursor` (`EVENT_STREAM_POLL_SECONDS`).",
  schema: { type: "integer" as const, minimum: 1 },
  example: 30,
};

export const stream = createRoute({
  method: "get",
  path: "/event-stream",
  operationId: "readEventStream",
  tags: ["Events"],
  summary: "Read the event stream",
  description:
    "Your API key's events, oldest first in the order they were committed, for consumers that pull instead of receiving webhooks: the same events as `GET /v1/events`, whether or not anything delivered them. Resume with `page.next_cursor`: no event is skipped or repeated, including events committed after you read with an earlier `created_at`. At the end `has_more` is false, and `next_cursor` plus `Retry-After` say where and when to poll again.",
  request: { query, headers: conditionalHeaders },
  responses: {
    200: {
      description: "A page of events, oldest first.",
      headers: { ...linkHeaderDoc, "Retry-After": retryAfter },
      content: { "application/json": { schema: listEnvelope(EventSchema, "EventStream", StreamPageSchema) } },
    },
    304: notModifiedResponse,
    ...authErrorResponses,
    400: problemResponseFor(
      "Invalid input (`validation-error`, naming every offending parameter), or a cursor that is modified, another API key's or another stream's, or sent with other filters (`invalid-cursor`).",
    ),
    410: problemResponseFor(
      "The cursor's position is older than the event retention (`stream-position-expired`): events after it were deleted. `detail` names `WEBHOOK_RETENTION_DAYS`; restart with the `since` the problem carries.",
    ),
    ...storageErrorResponses(
      "Or `service-unavailable`: the deployment has no `API_KEYS`, or no `CURSOR_SECRET` (or one whose secret is under 32 bytes).",
    ),
  },
});

export type StreamRoute = typeof stream;
