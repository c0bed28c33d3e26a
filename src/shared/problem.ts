import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** One offending input, as listed in a problem's `errors`. */
export interface FieldError {
  in: "query" | "path" | "header" | "body" | "cursor";
  name: string;
  message: string;
}

/** The problem types tributary can answer with, keyed by the slug in their `type` URI. */
export const problemTypes = {
  "validation-error": { status: 400, title: "Invalid request" },
  "invalid-cursor": { status: 400, title: "Invalid cursor" },
  "cursor-expired": { status: 400, title: "Cursor expired" },
  "subrequest-limit": { status: 400, title: "More upstream calls than this deployment allows per request" },
  "too-many-sources": { status: 400, title: "More sources than one first page may read here" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  "idempotency-key-in-use": { status: 409, title: "A request with this Idempotency-Key is still running" },
  "connection-invalid": { status: 409, title: "The upstream rejected this connection's credential" },
  "stream-position-expired": { status: 410, title: "Stream position expired" },
  "precondition-failed": { status: 412, title: "Precondition failed" },
  "payload-too-large": { status: 413, title: "Payload too large" },
  "uri-too-long": { status: 414, title: "URI too long" },
  "idempotency-key-reused": { status: 422, title: "Idempotency-Key already used for another request" },
  "credential-rejected": { status: 422, title: "The upstream rejected this credential" },
  "rate-limited": { status: 429, title: "Too many requests" },
  "internal-error": { status: 500, title: "Internal error" },
  "upstream-error": { status: 502, title: "Upstream error" },
  "upstream-auth": { status: 502, title: "Upstream rejected our credentials" },
  "upstream-invalid-response": { status: 502, title: "Upstream sent an invalid response" },
  "service-unavailable": { status: 503, title: "Service unavailable" },
  "deployment-incomplete": { status: 503, title: "Deployment incomplete" },
  "upstream-unavailable": { status: 503, title: "Upstream temporarily unavailable" },
  "upstream-budget-exhausted": { status: 503, title: "Upstream account's request budget exhausted" },
  "upstream-timeout": { status: 504, title: "Upstream timed out" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemType = keyof typeof problemTypes;

/** Where a problem type is described; a relative URI reference, served by GET /problems/{slug}. */
export const problemTypeUri = (type: ProblemType) => `/problems/${type}`;

interface ProblemInit {
  detail: string;
  /** Overrides the type's usual status (e.g. an upstream 404 surfaced as `not-found`). */
  status?: ContentfulStatusCode;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** RFC 9457 extension members, e.g. `upstream`. */
  extensions?: Record<string, unknown>;
}

/**
 * An error that becomes an RFC 9457 problem document in `onError`.
 * @example throw new ProblemError("not-found", { detail: "No batch rb_123." })
 */
export class ProblemError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly type: ProblemType,
    readonly init: ProblemInit,
  ) {
    super(init.detail);
    this.name = "ProblemError";
    this.status = init.status ?? problemTypes[type].status;
  }
}

/** Renders a problem document for the current request. */
export function problemResponse(c: Context, error: ProblemError): Response {
  const { type, init, status } = error;
  const body = {
    type: problemTypeUri(type),
    title: problemTypes[type].title,
    status,
    detail: init.detail,
    instance: new URL(c.req.url).pathname,
    request_id: (c.get("requestId") as string | undefined) ?? null,
    ...(init.errors ? { errors: init.errors } : {}),
    ...init.extensions,
  };
  return c.body(JSON.stringify(body), status, {
    "Content-Type": "application/problem+json",
    ...init.headers,
  });
}
