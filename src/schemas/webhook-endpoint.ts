import { z } from "@hono/zod-openapi";
import { isIso8601 } from "../shared/time";
import { SourceKeyInputSchema, SourceKeySchema, SubscribableEventTypeSchema } from "./events";
import { timestamp } from "./run";
import { canonicalSourceKey } from "./sources";

const URL_DOC =
  "Where events are POSTed. Must be `https` and must not point at loopback, private, link-local, CGNAT or cloud-metadata addresses (relaxed only where the deployment sets `ALLOW_INSECURE_WEBHOOK_URLS`). Redirects are not followed.";

const url = z
  .string()
  .min(1)
  .max(2048)
  .openapi({ description: URL_DOC, example: "https://hooks.example.com/tributary" });

const eventTypes = z
  .array(SubscribableEventTypeSchema)
  .min(1)
  .max(16)
  .refine((types) => new Set(types).size === types.length, "Each event type may appear once.");

const sources = z
  .array(SourceKeyInputSchema)
  .min(1)
  .max(50)
  .refine((keys) => new Set(keys.map(canonicalSourceKey)).size === keys.length, "Each source may appear once.");

const description = z.string().max(500);

/** Deliveries in flight at once when an endpoint sets no `max_in_flight` (migrations/0008 has the same default). */
export const DEFAULT_MAX_IN_FLIGHT = 10;
const MAX_IN_FLIGHT_LIMIT = 100;
/**
 * Highest `rate_limit` (deliveries per second) an endpoint may set: each delivery is two calls to the endpoint's pacer,
 * and one Durable Object serves about 1,000 requests a second.
 */
const MAX_RATE_LIMIT = 200;

const RATE_LIMIT_DOC = `Deliveries per second at most (1 to ${MAX_RATE_LIMIT}), counted as the endpoint receives them; null: no rate limit. Deliveries beyond it wait (never dropped, their retry schedule paused).`;
const MAX_IN_FLIGHT_DOC = `Deliveries in flight (sent, not yet answered) at once at most, 1 to ${MAX_IN_FLIGHT_LIMIT}. Default ${DEFAULT_MAX_IN_FLIGHT}.`;

const rateLimit = z.number().int().min(1).max(MAX_RATE_LIMIT);
const maxInFlight = z.number().int().min(1).max(MAX_IN_FLIGHT_LIMIT);

export const WebhookEndpointSchema = z
  .object({
    id: z.string().openapi({ example: "we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    url,
    description: description.nullable().openapi({ example: "Order pipeline" }),
    event_types: z
      .array(SubscribableEventTypeSchema)
      .nullable()
      .openapi({
        description: "The event types delivered; null means every type (including types added later).",
        example: ["run.completed", "run.failed"],
      }),
    sources: z.array(SourceKeySchema).openapi({
      description: "The upstream listings watched for this endpoint.",
      example: ["inkit:runs", "8x8:acme-ops/3f6c2a1e-8b4d-4c7a-9e2f-5a1b7c9d0e14"],
    }),
    enabled: z.boolean().openapi({ description: "Disabled endpoints receive nothing.", example: true }),
    disabled_reason: z.enum(["manual", "endpoint_gone"]).nullable().openapi({
      description:
        "Why the endpoint is disabled: `manual` (PATCHed), `endpoint_gone` (it answered a delivery with 410 Gone). Null while enabled.",
      example: null,
    }),
    rate_limit: rateLimit.nullable().openapi({ description: RATE_LIMIT_DOC, example: 5 }),
    max_in_flight: maxInFlight.openapi({ description: MAX_IN_FLIGHT_DOC, example: DEFAULT_MAX_IN_FLIGHT }),
    created_at: timestamp("When the endpoint was created.", "2026-11-01T00:00:00.000000Z"),
    updated_at: timestamp("When the endpoint last changed.", "2026-11-01T00:00:00.000000Z"),
  })
  .openapi("WebhookEndpoint", { description: "A consumer URL that receives signed events." });

export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

const secret = z.string().openapi({
  description:
    "The signing secret (`whsec_` + base64). Shown only here: store it. Verify deliveries with any Standard Webhooks library.",
  example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
});

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({ secret }).openapi(
  "WebhookEndpointWithSecret",
  { description: "A new endpoint, with its signing secret (shown once)." },
);

export const RotatedSecretSchema = z
  .object({
    id: z.string().openapi({ description: "The endpoint id.", example: "we_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }),
    secret,
    previous_secret_expires_at: timestamp(
      "Until when deliveries are also signed with the previous secret(s): 24 hours from now.",
      "2026-11-02T00:00:00.000000Z",
    ),
  })
  .openapi("RotatedSecret");

export const CreateWebhookEndpointSchema = z
  .strictObject({
    url,
    event_types: eventTypes.optional().openapi({ description: "Event types to deliver. Default: every type." }),
    sources: sources.optional().openapi({
      description:
        "Listings to watch. Default: `inkit:runs`, `inkit:workflow-batches` and `inkit:batches`, plus the 8x8 definitions in the deployment's `DEFAULT_SOURCES` setting.",
    }),
    description: description.optional(),
    rate_limit: rateLimit
      .nullable()
      .optional()
      .openapi({ description: `${RATE_LIMIT_DOC} Default: null.`, example: 5 }),
    max_in_flight: maxInFlight.optional().openapi({ description: MAX_IN_FLIGHT_DOC, example: 2 }),
  })
  .openapi("CreateWebhookEndpoint");

export const UpdateWebhookEndpointSchema = z
  .strictObject({
    url: url.optional(),
    event_types: eventTypes.nullable().optional().openapi({ description: "null: every type." }),
    sources: sources.optional(),
    description: description.nullable().optional(),
    enabled: z.boolean().optional().openapi({
      description: "`false` disables the endpoint (`disabled_reason: manual`); `true` enables it again.",
    }),
    rate_limit: rateLimit
      .nullable()
      .optional()
      .openapi({ description: `${RATE_LIMIT_DOC} null removes it.`, example: 5 }),
    max_in_flight: maxInFlight.optional().openapi({ description: MAX_IN_FLIGHT_DOC, example: 2 }),
  })
  .openapi("UpdateWebhookEndpoint");

/** An RFC 3339 instant with seconds and an offset (`Z` or `±hh:mm`). */
export const instantSchema = () =>
  z
    .string()
    .max(64)
    .refine(isIso8601, "Expected an RFC 3339 date-time with seconds and an offset, e.g. 2026-11-01T00:00:00Z.");

export const ReplaySchema = z
  .strictObject({
    since: instantSchema().openapi({
      format: "date-time",
      description: "Replay events created at or after this instant (RFC 3339).",
      example: "2026-11-01T00:00:00Z",
    }),
    until: instantSchema().optional().openapi({
      format: "date-time",
      description: "…and at or before this instant. Default: now.",
      example: "2026-11-01T06:00:00Z",
    }),
  })
  .openapi("ReplayRequest");

export const ReplayResultSchema = z
  .object({
    replayed: z.number().int().openapi({
      description: "Events queued again: those in the window that this endpoint subscribes to and has not received.",
      example: 12,
    }),
    event_ids: z.array(z.string()).openapi({ description: "Their ids, newest first." }),
  })
  .openapi("ReplayResult");

export const TestEventResultSchema = z
  .object({ event_id: z.string().openapi({ example: "evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V" }) })
  .openapi("TestEventResult");
