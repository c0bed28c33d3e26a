import type { SubscribableEventType } from "../schemas/events";
import type { WebhookEndpoint } from "../schemas/webhook-endpoint";
import { decryptSecret, encryptSecret, generateSecret } from "./crypto";
import { isoMicros, newId } from "./ids";

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface EndpointRow {
  id: string;
  tenant: string;
  url: string;
  description: string | null;
  event_types: string | null;
  sources: string;
  enabled: number;
  disabled_reason: "manual" | "endpoint_gone" | null;
  created_at: string;
  updated_at: string;
}

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
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Whether an endpoint subscribes to an event type (null = every type). */
export function subscribes(row: Pick<EndpointRow, "event_types">, type: string): boolean {
  return row.event_types === null || (JSON.parse(row.event_types) as string[]).includes(type);
}

export interface NewEndpoint {
  tenant: string;
  url: string;
  description: string | null;
  eventTypes: SubscribableEventType[] | null;
  sources: string[];
}

/** Creates an endpoint with a fresh signing secret; returns the row and the secret in clear (shown once). */
export async function createEndpoint(db: D1Database, master: string, input: NewEndpoint) {
  const now = isoMicros(Date.now());
  const id = newId("we");
  const secret = generateSecret();
  const row: EndpointRow = {
    id,
    tenant: input.tenant,
    url: input.url,
    description: input.description,
    event_types: input.eventTypes === null ? null : JSON.stringify(input.eventTypes),
    sources: JSON.stringify(input.sources),
    enabled: 1,
    disabled_reason: null,
    created_at: now,
    updated_at: now,
  };
  await db.batch([
    db
      .prepare(
        `INSERT INTO webhook_endpoints (id, tenant, url, description, event_types, sources, enabled, disabled_reason, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, NULL, ?, ?)`,
      )
      .bind(id, row.tenant, row.url, row.description, row.event_types, row.sources, now, now),
    db
      .prepare(
        "INSERT INTO webhook_secrets (id, endpoint_id, ciphertext, created_at, expires_at) VALUES (?, ?, ?, ?, NULL)",
      )
      .bind(newId("whs"), id, await encryptSecret(master, id, secret), now),
  ]);
  return { row, secret };
}

/** The tenant's endpoint, or null (another tenant's endpoint is reported as missing, never as forbidden). */
export async function findEndpoint(db: D1Database, tenant: string, id: string): Promise<EndpointRow | null> {
  return db
    .prepare("SELECT * FROM webhook_endpoints WHERE id = ? AND tenant = ?")
    .bind(id, tenant)
    .first<EndpointRow>();
}

export async function endpointById(db: D1Database, id: string): Promise<EndpointRow | null> {
  return db.prepare("SELECT * FROM webhook_endpoints WHERE id = ?").bind(id).first<EndpointRow>();
}

export interface EndpointPatch {
  url?: string;
  description?: string | null;
  eventTypes?: SubscribableEventType[] | null;
  sources?: string[];
  enabled?: boolean;
}

/** Applies a patch; returns the updated row. */
export async function updateEndpoint(db: D1Database, row: EndpointRow, patch: EndpointPatch): Promise<EndpointRow> {
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
    updated_at: isoMicros(Date.now()),
  };
  await db
    .prepare(
      `UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, sources = ?, enabled = ?, disabled_reason = ?, updated_at = ?
       WHERE id = ?`,
    )
    .bind(
      next.url,
      next.description,
      next.event_types,
      next.sources,
      next.enabled,
      next.disabled_reason,
      next.updated_at,
      row.id,
    )
    .run();
  return next;
}

/** The statement that disables an endpoint (`endpoint_gone`: it answered a delivery with 410 Gone). */
export function disableStatement(db: D1Database, id: string, reason: "manual" | "endpoint_gone"): D1PreparedStatement {
  return db
    .prepare("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?")
    .bind(reason, isoMicros(Date.now()), id);
}

/** Deletes an endpoint and its secrets; its queued deliveries find it gone and are dropped. */
export async function deleteEndpoint(db: D1Database, id: string): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM webhook_secrets WHERE endpoint_id = ?").bind(id),
    db.prepare("DELETE FROM webhook_endpoints WHERE id = ?").bind(id),
    db
      .prepare(
        "UPDATE deliveries SET status = 'failed', last_error = 'endpoint deleted', updated_at = ? WHERE endpoint_id = ? AND status = 'pending'",
      )
      .bind(isoMicros(Date.now()), id),
  ]);
}

/**
 * Rotates the signing secret: the new one signs from now on, and every secret still current keeps signing beside
 * it for 24 hours. Returns the new secret in clear (shown once) and when the old ones stop.
 */
export async function rotateSecret(db: D1Database, master: string, endpointId: string) {
  const now = Date.now();
  const secret = generateSecret();
  const expiresAt = isoMicros(now + ROTATION_OVERLAP_MS);
  await db.batch([
    db
      .prepare(
        "UPDATE webhook_secrets SET expires_at = ? WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)",
      )
      .bind(expiresAt, endpointId, expiresAt),
    db
      .prepare(
        "INSERT INTO webhook_secrets (id, endpoint_id, ciphertext, created_at, expires_at) VALUES (?, ?, ?, ?, NULL)",
      )
      .bind(newId("whs"), endpointId, await encryptSecret(master, endpointId, secret), isoMicros(now)),
    db
      .prepare("DELETE FROM webhook_secrets WHERE endpoint_id = ? AND expires_at IS NOT NULL AND expires_at <= ?")
      .bind(endpointId, isoMicros(now)),
  ]);
  return { secret, previousSecretExpiresAt: expiresAt };
}

/** The secrets an endpoint's deliveries are signed with right now, newest first, decrypted. */
export async function signingSecrets(db: D1Database, master: string, endpointId: string): Promise<string[]> {
  const { results } = await db
    .prepare(
      "SELECT ciphertext FROM webhook_secrets WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC, id DESC",
    )
    .bind(endpointId, isoMicros(Date.now()))
    .all<{ ciphertext: string }>();
  return Promise.all(results.map((r) => decryptSecret(master, endpointId, r.ciphertext)));
}

/** Source keys some enabled endpoint watches: the only ones change detection polls. */
export async function watchedSources(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare(
      "SELECT DISTINCT s.value AS source FROM webhook_endpoints e, json_each(e.sources) s WHERE e.enabled = 1 ORDER BY 1",
    )
    .all<{ source: string }>();
  return results.map((r) => r.source);
}

/** Every endpoint (any tenant, enabled or not) that watches a source. */
export async function endpointsWatching(db: D1Database, source: string): Promise<EndpointRow[]> {
  const { results } = await db
    .prepare(
      "SELECT e.* FROM webhook_endpoints e WHERE EXISTS (SELECT 1 FROM json_each(e.sources) s WHERE s.value = ?) ORDER BY e.created_at, e.id",
    )
    .bind(source)
    .all<EndpointRow>();
  return results;
}
