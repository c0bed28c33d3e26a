import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/app-env";
import { EVENT_TYPES, eventDescriptions, eventPayloadSchemas } from "../schemas/events";

const headers = z.object({
  "webhook-id": z.string().openapi({
    description: "The event id: identical on every retry and replay, so use it to deduplicate.",
    example: "evt_01JD5Q0Z8K3M4N5P6Q7R8S9T0V",
  }),
  "webhook-timestamp": z.string().openapi({
    description: "Unix seconds when this attempt was signed. Reject messages more than 5 minutes away from your clock.",
    example: "1793491512",
  }),
  "webhook-signature": z.string().openapi({
    description:
      "Space-separated `v1,<base64 HMAC-SHA256>` signatures of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the endpoint secret (base64-decoded after `whsec_`). Two during the 24 hours after a rotation; accept if any matches.",
    example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
  }),
});

const DELIVERY_DOC =
  "Delivered as a Standard Webhooks POST (https://www.standardwebhooks.com). Answer 2xx within 15 s to acknowledge. Other answers are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (429 and 503 honour `Retry-After`); 410 Gone disables the endpoint. Delivery is at least once and unordered (retries, replays and concurrent deliveries): deduplicate on `webhook-id`, and never apply a run or batch event whose `sequence` is not above the highest one you applied for that object.";

/** Registers one OpenAPI 3.1 `webhooks` entry per event type, on the root app so names are not prefixed. */
export function registerWebhooks(app: OpenAPIHono<AppEnv>) {
  for (const type of EVENT_TYPES) {
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      operationId: `${type.replace(/[._](\w)/g, (_, ch: string) => ch.toUpperCase())}Webhook`,
      tags: ["Webhooks"],
      summary: `Event \`${type}\``,
      description: `${eventDescriptions[type]}\n\n${DELIVERY_DOC}`,
      request: {
        headers,
        body: { required: true, content: { "application/json": { schema: eventPayloadSchemas[type] } } },
      },
      responses: {
        200: { description: "Any 2xx acknowledges the event." },
        410: { description: "Gone: tributary disables the endpoint and stops sending." },
      },
    });
  }
}
