import { z } from "@hono/zod-openapi";
import { BATCH_STATUSES, BatchSchema } from "./batch";
import { CONNECTION_STATUSES, ConnectionSchema } from "./connection";
import { RUN_STATUSES, RunSchema, timestamp } from "./run";
import { SOURCE_KEY_INPUT_PATTERN, SOURCE_KEY_PATTERN } from "./sources";

export const RUN_EVENT_TYPES = [
  "run.created",
  "run.status_changed",
  "run.completed",
  "run.failed",
  "run.unwatched",
] as const;
export const BATCH_EVENT_TYPES = [
  "batch.created",
  "batch.status_changed",
  "batch.completed",
  "batch.unwatched",
] as const;
export const CONNECTION_EVENT_TYPES = ["connection.invalid", "connection.recovered", "connection.deleted"] as const;
/** The types an endpoint can subscribe to; `ping` is only ever sent by the test route. */
export const SUBSCRIBABLE_EVENT_TYPES = [...RUN_EVENT_TYPES, ...BATCH_EVENT_TYPES, ...CONNECTION_EVENT_TYPES] as const;
export const EVENT_TYPES = [...SUBSCRIBABLE_EVENT_TYPES, "ping"] as const;

export type RunEventType = (typeof RUN_EVENT_TYPES)[number];
export type BatchEventType = (typeof BATCH_EVENT_TYPES)[number];
export type ConnectionEventType = (typeof CONNECTION_EVENT_TYPES)[number];
export type SubscribableEventType = (typeof SUBSCRIBABLE_EVENT_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];

const EVENT_TYPE_DOC = [
  "`run.created` / `batch.created`: an item appeared after the source's baseline (a terminal one also gets",
  "`run.completed`, `run.failed` or `batch.completed`). `*.status_changed`: `status` or `provider_status` changed.",
  "`run.completed`, `run.failed`, `batch.completed`: the normalized status became that. `run.unwatched` /",
  "`batch.unwatched`: detection stopped watching an item that was still open (`data.reason`: `horizon`, it passed",
  "the watch horizon; `gone`, the upstream no longer lists it), so its final state will not be reported.",
  "`connection.invalid`, `connection.recovered`, `connection.deleted`: one of your connections changed status (see",
  "`Connection`); every endpoint and subscription of its API key hears of it. `ping`: sent by",
  "`POST /v1/webhook-endpoints/{id}/test` only.",
].join(" ");

const EventTypeSchema = z.enum(EVENT_TYPES).openapi("EventType", {
  description: EVENT_TYPE_DOC,
  example: "run.completed",
});

export const SubscribableEventTypeSchema = z.enum(SUBSCRIBABLE_EVENT_TYPES).openapi("SubscribableEventType", {
  description: "An event type an endpoint can subscribe to (every type but `ping`).",
  example: "run.completed",
});

const ANY_STATUSES = [...new Set([...RUN_STATUSES, ...BATCH_STATUSES])] as [string, ...string[]];

export const PreviousStatusSchema = z
  .object({
    status: z
      .enum(ANY_STATUSES)
      .openapi({ description: "The normalized status before the change.", example: "running" }),
    provider_status: z
      .string()
      .openapi({ description: "The upstream's status text before the change.", example: "In Progress" }),
  })
  .openapi("PreviousStatus", { description: "The status an item had before this event; null for new items." });

export type PreviousStatus = z.infer<typeof PreviousStatusSchema>;

const PingObjectSchema = z
  .object({
    endpoint_id: z.string().openapi({ example: "we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    url: z.string().openapi({ example: "https://hooks.example.com/tributary" }),
    message: z.string().openapi({ example: "Test event from tributary." }),
  })
  .openapi("PingObject", { description: "The object of a `ping` event: the endpoint it was sent to." });

const ConnectionPreviousSchema = z
  .object({
    status: z.enum(CONNECTION_STATUSES).openapi({ description: "The connection's status before.", example: "active" }),
  })
  .openapi("ConnectionPrevious", { description: "The status a connection had before this event." });

const eventTimestamp = timestamp("When tributary detected the change (UTC, six fractional digits).", null).openapi({
  example: "2026-11-01T00:05:12.345000Z",
});

const SEQUENCE_DOC = [
  "Orders the events of one object. Strictly increasing per object: every run and batch event takes the next number",
  "of its source's counter (an object is listed by exactly one source), so numbers jump but never repeat or go back.",
  "Retries and replays carry the original event's sequence. Deliveries are concurrent and may arrive out of order:",
  "keep the highest sequence applied per object (`data.object.provider` + `data.object.id`) and drop an event whose",
  "sequence is not above it; it is a duplicate or an older state. A connection's events are numbered per connection.",
].join(" ");

const sequence = z.number().int().min(1).openapi({ description: SEQUENCE_DOC, example: 1042 });

// A union rather than `.nullable()`: zod-to-openapi drops the null of a nullable registered schema.
const previousField = z.union([PreviousStatusSchema, z.null()]);

export const UNWATCH_REASONS = ["horizon", "gone"] as const;
export type UnwatchReason = (typeof UNWATCH_REASONS)[number];

const UnwatchReasonSchema = z.enum(UNWATCH_REASONS).openapi("UnwatchReason", {
  description:
    "Why detection stopped watching an open item: `horizon`, it was still open when it passed the watch horizon (`WEBHOOK_WATCH_HORIZON_DAYS` after its creation); `gone`, the upstream no longer lists it.",
  example: "horizon",
});

const isUnwatched = (type: EventType) => type === "run.unwatched" || type === "batch.unwatched";
const isConnectionEvent = (type: EventType) => type.startsWith("connection.");

/** The payload schema of one event type: the exact JSON body a delivery carries. */
function payloadSchema<T extends EventType, O extends z.ZodType>(
  type: T,
  object: O,
  name: string,
  description: string,
) {
  const data = isUnwatched(type)
    ? z.object({ object, previous: z.null(), reason: UnwatchReasonSchema })
    : isConnectionEvent(type)
      ? z.object({ object, previous: ConnectionPreviousSchema })
      : z.object({ object, previous: type === "ping" ? z.null() : previousField });
  const shape =
    type === "ping"
      ? { type: z.literal(type), timestamp: eventTimestamp, data }
      : { type: z.literal(type), timestamp: eventTimestamp, sequence, data };
  return z.object(shape).openapi(name, { description });
}

const pascal = (type: string) =>
  type
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");

const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  "run.created": "A workflow run appeared in a watched source.",
  "run.status_changed": "A run's `status` or `provider_status` changed. `previous` has the old values.",
  "run.completed": "A run's normalized status became `completed`.",
  "run.failed": "A run's normalized status became `failed`.",
  "batch.created": "An Inkit batch appeared in a watched source.",
  "batch.status_changed": "A batch's `status` or `provider_status` changed. `previous` has the old values.",
  "batch.completed": "A batch's normalized status became `completed`.",
  "run.unwatched":
    "Detection stopped watching a run that was still open: it passed the watch horizon, or the upstream no longer lists it. `object` is the run as last seen; its final state will not be reported.",
  "batch.unwatched":
    "Detection stopped watching a batch that was still open: it passed the watch horizon, or the upstream no longer lists it. `object` is the batch as last seen; its final state will not be reported.",
  "connection.invalid":
    "The upstream rejected one of your connections' credential (HTTP 401 or 403). Its listings answer 409 and change detection pauses for it, losing nothing, until a working credential is patched in. `object.last_error` says what the upstream answered.",
  "connection.recovered":
    "A connection that was `invalid` works again (a new credential was patched in, or a test found the stored one accepted again); change detection resumes where it stopped.",
  "connection.deleted": "A connection was deleted: its credential is erased, and sources read through it end.",
  ping: "A test event sent on request to one endpoint.",
};

/** One payload schema per event type, named e.g. `RunCompletedEvent`. */
export const eventPayloadSchemas = {} as Record<EventType, z.ZodType>;
for (const type of EVENT_TYPES) {
  const object =
    type === "ping"
      ? PingObjectSchema
      : isConnectionEvent(type)
        ? ConnectionSchema
        : type.startsWith("run.")
          ? RunSchema
          : BatchSchema;
  eventPayloadSchemas[type] = payloadSchema(type, object, `${pascal(type)}Event`, EVENT_DESCRIPTIONS[type]);
}

export const eventDescriptions = EVENT_DESCRIPTIONS;

export const SourceKeySchema = z
  .string()
  .regex(
    new RegExp(SOURCE_KEY_PATTERN),
    "Expected inkit:runs, inkit:workflow-batches, inkit:batches or 8x8:<account_id>/<definition_id>, then @<connection_id> or not.",
  )
  .openapi("SourceKey", {
    description:
      "A watched upstream listing: `inkit:runs`, `inkit:workflow-batches`, `inkit:batches`, or `8x8:<account_id>/<definition_id>` (the definition's latest version). Read through one of your connections, it ends in `@<connection_id>` (`inkit:runs@conn_…`); without one, it is read with the deployment's own credentials.",
    example: "inkit:runs",
  });

/** A source key as a caller may write it: also the feed's `inkit`, which means `inkit:runs`. */
export const SourceKeyInputSchema = z
  .string()
  .regex(
    new RegExp(SOURCE_KEY_INPUT_PATTERN),
    "Expected inkit, inkit:runs, inkit:workflow-batches, inkit:batches or 8x8:<account_id>/<definition_id>, then @<connection_id> or not.",
  )
  .openapi({
    description:
      "A source key (see `SourceKey`). The feed's `inkit` is accepted as `inkit:runs`; answers always use the canonical form.",
    example: "inkit:runs",
  });

export const EventSchema = z
  .object({
    id: z.string().openapi({
      description:
        "Event id, time-ordered. Also the `webhook-id` header of every delivery, retries and replays included.",
      example: "evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V",
    }),
    type: EventTypeSchema,
    source: z.string().nullable().openapi({
      description: "The source key the change was seen in (see `SourceKey`); null for `ping` and connection events.",
      example: "inkit:runs",
    }),
    created_at: eventTimestamp,
    sequence: sequence.nullable().openapi({ description: `${SEQUENCE_DOC} Null for \`ping\`.`, example: 1042 }),
    data: z.object({
      object: z.union([RunSchema, BatchSchema, ConnectionSchema, PingObjectSchema]).openapi({
        description:
          "The normalized Run or Batch as detected (the `Connection` for connection events, a `PingObject` for `ping`).",
      }),
      previous: z.union([PreviousStatusSchema, ConnectionPreviousSchema, z.null()]),
      reason: UnwatchReasonSchema.optional().openapi({ description: "Only on `run.unwatched` and `batch.unwatched`." }),
    }),
  })
  .openapi("Event", {
    description:
      "A recorded event. Its delivered payload is `{type, timestamp: created_at, sequence, data}` (no `sequence` for `ping`).",
  });

export type EventRecord = z.infer<typeof EventSchema>;

export const DeliveryAttemptSchema = z
  .object({
    id: z.string().openapi({ example: "att_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    event_id: z.string().openapi({ example: "evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    endpoint_id: z.string().openapi({ example: "we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    attempt: z.number().int().min(1).openapi({ description: "1 for the first try; replays restart at 1.", example: 1 }),
    created_at: timestamp("When the request was sent.", "2026-11-01T00:05:12.612000Z"),
    duration_ms: z.number().int().openapi({ example: 84 }),
    status_code: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The endpoint's HTTP status, null when none arrived.", example: 200 }),
    error: z.string().nullable().openapi({ description: "Why the attempt failed, when it did.", example: null }),
    outcome: z.enum(["delivered", "retrying", "failed", "endpoint_disabled"]).openapi({
      description:
        "`delivered` (2xx), `retrying` (another attempt is scheduled), `failed` (retries exhausted or endpoint unusable), `endpoint_disabled` (410 Gone: the endpoint was disabled).",
      example: "delivered",
    }),
    next_retry_at: timestamp("When the next attempt is due, when one is scheduled.", null).nullable(),
  })
  .openapi("DeliveryAttempt", { description: "One HTTP attempt to deliver an event to an endpoint." });

export type DeliveryAttempt = z.infer<typeof DeliveryAttemptSchema>;
