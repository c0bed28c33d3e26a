import type { Context } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import { ProblemError } from "../../shared/problem";
import { openSealed, sealText } from "../../shared/sealing";
import type { AppEnv } from "../app-env";
import type { IdempotencyKeyRef, IdempotencyRow, RecordedAnswer } from "./store";

/** Headers of the first answer that a replay repeats: how to read its body and where a created resource lives. */
const KEPT_HEADERS = ["Content-Type", "Location"] as const;

/** The header that marks a replayed answer (Stripe's name; the IETF draft defines none). */
const REPLAYED_HEADER = "Idempotent-Replayed";

/** Additional data of a kept answer's encryption: it opens only for the caller, operation and key it answers. */
const sealContext = (s: IdempotencyKeyRef) => JSON.stringify(["idempotency", s.tenant, s.operation, s.key]);

/**
 * An answer as it is kept for replays: its status, the headers a replay repeats, and its body. The body is encrypted
 * with the deployment's WEBHOOK_ENCRYPTION_KEY whenever one is configured, which every operation whose answer holds a
 * signing secret requires: a secret is never stored in clear.
 */
export async function keptAnswer(
  master: string | null,
  ref: IdempotencyKeyRef,
  res: Response,
): Promise<RecordedAnswer> {
  const headers = KEPT_HEADERS.flatMap((name) => {
    const value = res.headers.get(name);
    return value === null ? [] : [[name, value]];
  });
  const body = await res.clone().text();
  return {
    status: res.status,
    headers: JSON.stringify(Object.fromEntries(headers)),
    body: master === null ? body : await sealText(master, sealContext(ref), body),
    sealed: master === null ? 0 : 1,
  };
}

/** The first answer of a key, sent again: same status, headers and body, marked `Idempotent-Replayed: true`. */
export async function replayAnswer(c: Context<AppEnv>, row: IdempotencyRow): Promise<Response> {
  const ref = { tenant: row.tenant, operation: row.operation, key: row.idempotency_key };
  const master = c.get("config").webhookEncryptionKey;
  if (row.sealed === 1 && master === null) {
    throw new ProblemError("service-unavailable", {
      detail:
        "The first answer of this Idempotency-Key is kept encrypted, and the deployment has no WEBHOOK_ENCRYPTION_KEY to read it.",
    });
  }
  const stored = row.body ?? "";
  const body = row.sealed === 1 && master !== null ? await openSealed(master, sealContext(ref), stored) : stored;
  const headers = { ...(JSON.parse(row.headers ?? "{}") as Record<string, string>), [REPLAYED_HEADER]: "true" };
  // A 2xx without content (none today) cannot carry even an empty body.
  return body === ""
    ? c.body(null, row.status as StatusCode, headers)
    : c.body(body, row.status as ContentfulStatusCode, headers);
}
