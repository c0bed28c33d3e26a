/**
 * The event stream's cursor: where a consumer stands in commit order. Signed like the list cursors (a signed token,
 * shared/signed-token.ts, with the `CURSOR_SECRET` keys) but without their lifetime: a position stays good until
 * retention deletes events after it, which the stream checks against the database, not against the clock.
 */
import { z } from "@hono/zod-openapi";
import { sha256Hex } from "../shared/digest";
import { type FieldError, ProblemError } from "../shared/problem";
import { type SigningKey, signToken, type TokenFailure, verifyToken } from "../shared/signed-token";
import type { StreamFilters } from "./store";

/** Where a consumer stands, as its cursor carries it. */
export interface StreamCursor {
  /** Digest of the caller the cursor was issued to (see `streamBinding`). */
  caller: string;
  /** The stream's filters, canonical: later requests may omit them. */
  filters: StreamFilters;
  /** The limit of the page that issued it: the default for the next one. */
  limit: number;
  /** The last position read: the next page starts after it. */
  position: number;
}

const ROUTE = "event-stream";

/** The signed payload, with short keys: a cursor travels in URLs. */
const PayloadSchema = z.strictObject({
  r: z.literal(ROUTE),
  v: z.literal(1),
  b: z.string(),
  f: z.strictObject({ type: z.string().optional(), source: z.string().optional() }),
  l: z.number().int().min(1).max(500),
  p: z.number().int().min(0),
});

const MALFORMED = "The cursor is malformed.";

/** What a cursor that did not verify is told, before how to restart. */
const tokenFailures: Record<TokenFailure, string> = {
  malformed: MALFORMED,
  "unknown-key": "The cursor was signed with a key this deployment no longer accepts.",
  modified: "The cursor was modified or is corrupt.",
  undecodable: MALFORMED,
};

const invalid = (detail: string, errors?: FieldError[]) =>
  new ProblemError("invalid-cursor", {
    detail: `${detail} Restart the stream without a cursor (or with \`since\`).`,
    ...(errors ? { errors } : {}),
  });

/** The caller's digest a cursor is bound to: the API key's id, never stored as it is. */
export async function streamBinding(tenant: string): Promise<string> {
  return (await sha256Hex(`${ROUTE}|${tenant}`)).slice(0, 22);
}

/**
 * Signs a stream position with the first key.
 * @example await signStreamCursor({ caller, filters: { type: "run.completed" }, limit: 100, position: 42 }, keys)
 */
export async function signStreamCursor(cursor: StreamCursor, keys: SigningKey[]): Promise<string> {
  const payload = { r: ROUTE, v: 1, b: cursor.caller, f: cursor.filters, l: cursor.limit, p: cursor.position };
  return signToken(new TextEncoder().encode(JSON.stringify(payload)), keys);
}

/** Verifies and decodes a stream cursor; anything modified, foreign or malformed is a 400 `invalid-cursor`. */
export async function verifyStreamCursor(token: string, keys: SigningKey[]): Promise<StreamCursor> {
  const verified = await verifyToken(token, keys);
  if (!verified.ok) throw invalid(tokenFailures[verified.failure]);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch {
    throw invalid(MALFORMED);
  }
  if ((json as { r?: unknown } | null)?.r !== ROUTE) {
    throw invalid("This cursor was issued by a list route, not by the event stream.");
  }
  const parsed = PayloadSchema.safeParse(json);
  if (!parsed.success) throw invalid("The cursor is not in a format this version understands.");
  const { b, f, l, p } = parsed.data;
  return { caller: b, filters: f, limit: l, position: p };
}

/**
 * The filters a resumed stream reads with: the cursor's, once it is known to belong to `caller` and the filters
 * sent (if any) equal it. Anything else is a 400 `invalid-cursor`.
 */
export function resumedFilters(cursor: StreamCursor, caller: string, sent: StreamFilters): StreamFilters {
  if (cursor.caller !== caller) throw invalid("This cursor was issued to another API key.");
  const differing = (Object.keys(sent) as (keyof StreamFilters)[]).filter(
    (name) => sent[name] !== undefined && sent[name] !== cursor.filters[name],
  );
  if (differing.length > 0) {
    throw invalid(
      `The cursor belongs to a stream with other filters (${differing.join(", ")}): omit them or send the same values.`,
      differing.map((name) => ({ in: "cursor", name, message: "Differs from the value the stream was started with." })),
    );
  }
  return cursor.filters;
}
