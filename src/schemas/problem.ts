import { z } from "@hono/zod-openapi";
import { type ProblemType, problemTypes, problemTypeUri } from "../shared/problem";

const FieldErrorSchema = z
  .object({
    in: z.enum(["query", "path", "header", "body", "cursor"]),
    name: z.string().openapi({ example: "limit" }),
    message: z.string().openapi({ example: "Too big: expected number to be <=500" }),
  })
  .openapi("FieldError");

const UpstreamErrorSchema = z
  .object({
    provider: z.enum(["inkit", "8x8"]),
    status: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "HTTP status the upstream answered with, null when it never answered." }),
    code: z
      .union([z.string(), z.number()])
      .nullable()
      .openapi({ description: "The upstream's own error code, when it sent one." }),
    error_id: z
      .string()
      .nullable()
      .openapi({ description: "The upstream's error id (8x8 `errorId`), for support requests." }),
  })
  .openapi("UpstreamError");

const BudgetInfoSchema = z
  .object({
    account: z.string().openapi({
      description:
        "The upstream account whose budget refused: `configured` (this deployment's credential), a connection's id, or `caller:` and a hash prefix of the credential sent in the request (never the credential).",
      example: "configured",
    }),
    retry_after_ms: z
      .number()
      .int()
      .openapi({ description: "When a call with this account fits again, in ms.", example: 1200 }),
    paused: z.boolean().openapi({
      description: "The account is paused because its upstream answered 429, for as long as its `Retry-After` said.",
    }),
  })
  .openapi("UpstreamBudget");

export const ProblemSchema = z
  .object({
    type: z.string().openapi({
      example: problemTypeUri("validation-error"),
      description: "URI reference naming the problem type; GET it for a description.",
    }),
    title: z.string().openapi({ example: "Invalid request" }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: "Query parameter limit: Too big: expected number to be <=500" }),
    instance: z.string().optional().openapi({ example: "/v1/inkit/runs" }),
    request_id: z.string().nullable().openapi({ example: "8f14e45f-ceea-467f-a0e6-0b6e5a3c8b1d" }),
    errors: z.array(FieldErrorSchema).optional(),
    upstream: UpstreamErrorSchema.optional(),
    budget: BudgetInfoSchema.optional().openapi({
      description: "`upstream-budget-exhausted` only: the upstream account and when its budget has room again.",
    }),
    etag: z.string().optional().openapi({
      description:
        "`precondition-failed` only: the resource's current entity tag, to send as `If-Match` once your change is reapplied to its current state.",
      example: '"3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f60"',
    }),
  })
  .openapi("Problem", { description: "An RFC 9457 problem document. Every non-2xx response is one." });

const problemContent = { "application/problem+json": { schema: ProblemSchema } };

const describe = (types: ProblemType[]) => types.map((t) => `\`${t}\` (${problemTypes[t].title})`).join(", ");

/** A named error response for route definitions. */
export const problemResponseFor = (description: string) => ({ description, content: problemContent });

const retryAfterHeader = {
  description: "Seconds to wait before trying again.",
  schema: { type: "integer" as const, minimum: 1 },
  example: 30,
};

/** Headers of a 429: when to come back and the quota (draft-ietf-httpapi-ratelimit-headers). */
const rateLimitHeadersDoc = {
  "Retry-After": retryAfterHeader,
  RateLimit: {
    description:
      "The quota left: `r` requests remaining (0 here) and `t` seconds until the window resets, for the policy named `default`.",
    schema: { type: "string" as const },
    example: '"default";r=0;t=30',
  },
  "RateLimit-Policy": {
    description:
      "The policy: `q` requests per `w`-second window per API key (`RATE_LIMIT_REQUESTS`, `RATE_LIMIT_PERIOD_SECONDS`). Sent on every response to an authenticated request.",
    schema: { type: "string" as const },
    example: '"default";q=100;w=60',
  },
};

/** Error responses shared by every authenticated route; spread into `responses`. */
export const authErrorResponses = {
  400: problemResponseFor(
    `Invalid input: ${describe(["validation-error"])}. Every offending parameter is listed in \`errors\`.`,
  ),
  401: problemResponseFor("Missing or wrong API key. Carries `WWW-Authenticate: Bearer`."),
  429: {
    ...problemResponseFor(
      `Too many requests from this API key: ${describe(["rate-limited"])}. Wait \`Retry-After\` seconds.`,
    ),
    headers: rateLimitHeadersDoc,
  },
  500: problemResponseFor("Unexpected error. No internals are disclosed; quote `request_id` when reporting it."),
  503: {
    ...problemResponseFor(
      `${describe(["upstream-unavailable"])}: an upstream is failing and its circuit is open, or it is rate limiting us beyond this request's time budget; \`upstream\` names it and \`Retry-After\` says when to come back. Or ${describe(["upstream-budget-exhausted"])}: the upstream account this request reads with has spent its request budget (shared by every caller and by change detection), or is paused after the upstream answered 429, for longer than the request may wait; \`budget.account\` names the account (\`configured\`, a connection's id, or \`caller:…\` for the credential you sent) and \`Retry-After\` says when a call fits again. Or ${describe(["service-unavailable"])}: the deployment is not configured to accept keys (\`API_KEYS\` unset) and fails closed, or, on list routes, to sign cursors (\`CURSOR_SECRET\` unset, or a secret in it under 32 bytes).`,
    ),
    headers: {
      "Retry-After": {
        ...retryAfterHeader,
        description: "Seconds to wait (`upstream-unavailable` and `upstream-budget-exhausted` only).",
      },
    },
  },
} as const;

/**
 * The 503 of a route that needs the webhook store or its queues: `deployment-incomplete` naming the missed step,
 * plus the route's other causes of a 503. Spread after `authErrorResponses`.
 */
export const storageErrorResponses = (otherCauses: string) => ({
  503: problemResponseFor(
    `${describe(["deployment-incomplete"])}: the deployment missed a setup step this route needs: the D1 migrations are not applied, or a binding (\`DB\`, \`WEBHOOK_QUEUE\`) is missing. \`detail\` names the step; retrying does not help until an operator completes it. ${otherCauses}`,
  ),
});
