import type { SubscribableEventType } from "../schemas/events";
import type { WebhookEndpoint } from "../schemas/webhook-endpoint";
import { strongEntityTag } from "../shared/entity-tag";
import { newId } from "../shared/ids";
import { isoMicros } from "../shared/time";
import { type AnswerStatements, noAnswer } from "../storage/answer-statements";
import { type EndpointRow, insertEndpoint, rotateSecrets, type SecretRow, saveEndpoint } from "./endpoint-store";
import { generateSecret, openSecret, sealSecret } from "./signing";

/** How long a rotated-out secret keeps signing beside the new one. */
const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** The API shape of an endpoint row. */
export function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.event_types === null ? null : (JSON.parse(row.event_types) as SubscribableEventType[]),
    sources: JSON.parse(row.sources) as string[],
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    rate_limit: row.rate_limit,
    max_in_flight: row.max_in_flight,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The strong entity tag of an endpoint's state: the `ETag` its GET carries, compared with `If-Match`. */
export const endpointTag = (row: EndpointRow) => strongEntityTag(JSON.stringify(toEndpoint(row)));

interface NewEndpoint {
  tenant: string;
  url: string;
  description: string | null;
  eventTypes: SubscribableEventType[] | null;
  sources: string[];
  rateLimit: number | null;
  maxInFlight: number;
}

/** A fresh signing secret for an endpoint: in clear (shown once) and as stored, encrypted. */
async function newSecret(master: string, endpointId: string, now: string): Promise<{ clear: string; row: SecretRow }> {
  const clear = generateSecret();
  return {
    clear,
    row: { id: newId("whs"), ciphertext: await sealSecret(master, endpointId, clear), created_at: now },
  };
}

/**
 * Creates an endpoint with a fresh signing secret; returns the row and the secret in clear (shown once). `answer`'s
 * statements commit with it.
 */
export async function createEndpoint(
  db: D1Database,
  master: string,
  input: NewEndpoint,
  answer: AnswerStatements<{ row: EndpointRow; secret: string }> = noAnswer,
) {
  const now = isoMicros(Date.now());
  const id = newId("we");
  const row: EndpointRow = {
    id,
    tenant: input.tenant,
    url: input.url,
    description: input.description,
    event_types: input.eventTypes === null ? null : JSON.stringify(input.eventTypes),
    sources: JSON.stringify(input.sources),
    enabled: 1,
    disabled_reason: null,
    rate_limit: input.rateLimit,
    max_in_flight: input.maxInFlight,
    created_at: now,
    updated_at: now,
  };
  const secret = await newSecret(master, id, now);
  const created = { row, secret: secret.clear };
  await insertEndpoint(db, row, secret.row, await answer(created));
  return created;
}

interface EndpointPatch {
  url?: string;
  description?: string | null;
  eventTypes?: SubscribableEventType[] | null;
  sources?: string[];
  enabled?: boolean;
  rateLimit?: number | null;
  maxInFlight?: number;
}

/**
 * Applies a patch; returns the updated row. `guarded` (a write under If-Match): only if the stored row is still
 * `row`, else null.
 */
export async function updateEndpoint(
  db: D1Database,
  row: EndpointRow,
  patch: EndpointPatch,
  guarded = false,
): Promise<EndpointRow | null> {
  const next: EndpointRow = {
    ...row,
    url: patch.url ?? row.url,
    description: patch.description === undefined ? row.description : patch.description,
    event_types:
      patch.eventTypes === undefined
        ? row.event_types
        : patch.eventTypes === null
          ? null
          : JSON.stringify(patch.eventTypes),
    sources: patch.sources === undefined ? row.sources : JSON.stringify(patch.sources),
    enabled: patch.enabled === undefined ? row.enabled : patch.enabled ? 1 : 0,
    disabled_reason:
      patch.enabled === undefined ? row.disabled_reason : patch.enabled ? null : (row.disabled_reason ?? "manual"),
    rate_limit: patch.rateLimit === undefined ? row.rate_limit : patch.rateLimit,
    max_in_flight: patch.maxInFlight ?? row.max_in_flight,
    updated_at: isoMicros(Date.now()),
  };
  return (await saveEndpoint(db, next, guarded ? row : undefined)) ? next : null;
}

/**
 * Rotates the signing secret: the new one signs from now on, and every secret still current keeps signing beside
 * it for 24 hours. Returns the new secret in clear (shown once) and when the old ones stop. `answer`'s statements
 * commit with it.
 */
export async function rotateSecret(
  db: D1Database,
  master: string,
  endpointId: string,
  answer: AnswerStatements<{ secret: string; previousSecretExpiresAt: string }> = noAnswer,
) {
  const now = Date.now();
  const expiresAt = isoMicros(now + ROTATION_OVERLAP_MS);
  const secret = await newSecret(master, endpointId, isoMicros(now));
  const rotated = { secret: secret.clear, previousSecretExpiresAt: expiresAt };
  await rotateSecrets(db, endpointId, secret.row, expiresAt, isoMicros(now), await answer(rotated));
  return rotated;
}

/** The secrets an endpoint's deliveries are signed with, decrypted, from their stored ciphertexts (in their order). */
export function openSecrets(master: string, endpointId: string, ciphertexts: readonly string[]): Promise<string[]> {
  return Promise.all(ciphertexts.map((ciphertext) => openSecret(master, endpointId, ciphertext)));
}
