/** Rows of `webhook_endpoints` and `webhook_secrets`, and every statement over them. */

import { insertRow } from "../storage/insert-many";
import { findOwned } from "../storage/owned-rows";

export interface EndpointRow {
  id: string;
  tenant: string;
  url: string;
  description: string | null;
  event_types: string | null;
  sources: string;
  enabled: number;
  disabled_reason: "manual" | "endpoint_gone" | null;
  /** Deliveries per second at most; null: no rate limit. */
  rate_limit: number | null;
  /** Deliveries in flight at once at most. */
  max_in_flight: number;
  created_at: string;
  updated_at: string;
}

/** A signing secret, encrypted (see shared/sealing.ts). */
export interface SecretRow {
  id: string;
  ciphertext: string;
  created_at: string;
}

const insertSecret = (db: D1Database, endpointId: string, s: SecretRow) =>
  insertRow(db, "webhook_secrets", {
    id: s.id,
    endpoint_id: endpointId,
    ciphertext: s.ciphertext,
    created_at: s.created_at,
    expires_at: null,
  });

/** Inserts an enabled endpoint with its first secret, in one transaction. */
export async function insertEndpoint(
  db: D1Database,
  row: EndpointRow,
  secret: SecretRow,
  alongside: D1PreparedStatement[] = [],
): Promise<void> {
  await db.batch([
    insertRow(db, "webhook_endpoints", { ...row, enabled: 1, disabled_reason: null }),
    insertSecret(db, row.id, secret),
    ...alongside,
  ]);
}

/** The tenant's endpoint, or null (another tenant's endpoint is reported as missing, never as forbidden). */
export async function findEndpoint(db: D1Database, tenant: string, id: string): Promise<EndpointRow | null> {
  return findOwned<EndpointRow>(db, "webhook_endpoints", tenant, id);
}

/**
 * Endpoints by id, each row with the ciphertext of one of its secrets current at `now` (null when it has none), its
 * secrets newest first: one statement for every endpoint of a delivery batch. Read with {@link endpointsWithSecrets}.
 */
export function endpointsWithSecretsStatement(db: D1Database, ids: readonly string[], now: string) {
  return db
    .prepare(
      `SELECT w.*, s.ciphertext AS secret_ciphertext FROM webhook_endpoints w
       LEFT JOIN webhook_secrets s ON s.endpoint_id = w.id AND (s.expires_at IS NULL OR s.expires_at > ?)
       WHERE w.id IN (SELECT value FROM json_each(?))
       ORDER BY w.id, s.created_at DESC, s.id DESC`,
    )
    .bind(now, JSON.stringify(ids));
}

/** An endpoint and the ciphertexts of its current secrets, newest first. */
export interface EndpointWithSecrets {
  row: EndpointRow;
  ciphertexts: string[];
}

/** The rows of {@link endpointsWithSecretsStatement}, by endpoint id. */
export function endpointsWithSecrets(
  rows: readonly (EndpointRow & { secret_ciphertext: string | null })[],
): Map<string, EndpointWithSecrets> {
  const byId = new Map<string, EndpointWithSecrets>();
  for (const { secret_ciphertext, ...row } of rows) {
    let entry = byId.get(row.id);
    if (!entry) {
      entry = { row, ciphertexts: [] };
      byId.set(row.id, entry);
    }
    if (secret_ciphertext !== null) entry.ciphertexts.push(secret_ciphertext);
  }
  return byId;
}

/** The columns a write changes and its representation shows, in one order: what a write sets and its guard compares. */
const CHANGEABLE = [
  "url",
  "description",
  "event_types",
  "sources",
  "enabled",
  "disabled_reason",
  "rate_limit",
  "max_in_flight",
  "updated_at",
] as const;

const changeable = (row: EndpointRow) => CHANGEABLE.map((column) => row[column]);

/**
 * A condition that holds while the endpoint is still exactly `row` (every column its representation shows): the
 * compare-and-set guard of a write under `If-Match`. `IS` compares NULLs as values.
 */
function unchangedSince(row: EndpointRow): { sql: string; params: (string | number | null)[] } {
  return { sql: CHANGEABLE.map((column) => `${column} IS ?`).join(" AND "), params: changeable(row) };
}

/**
 * Writes an endpoint's changeable columns; with `expected`, only if the stored row still equals it. Returns whether
 * the row was written.
 */
export async function saveEndpoint(db: D1Database, row: EndpointRow, expected?: EndpointRow): Promise<boolean> {
  const guard = expected ? unchangedSince(expected) : { sql: "1", params: [] };
  const result = await db
    .prepare(
      `UPDATE webhook_endpoints SET ${CHANGEABLE.map((column) => `${column} = ?`).join(", ")}
       WHERE id = ? AND ${guard.sql}`,
    )
    .bind(...changeable(row), row.id, ...guard.params)
    .run();
  return result.meta.changes > 0;
}

/** The statement that disables an endpoint (`endpoint_gone`: it answered a delivery with 410 Gone). */
export function disableStatement(
  db: D1Database,
  id: string,
  reason: "manual" | "endpoint_gone",
  now: string,
): D1PreparedStatement {
  return db
    .prepare("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?")
    .bind(reason, now, id);
}

/**
 * Deletes an endpoint and its secrets; its pending deliveries are failed, so queued messages find nothing to do. With
 * `expected`, in one transaction and only if the stored row still equals it. Returns whether it was deleted.
 */
export async function deleteEndpoint(
  db: D1Database,
  id: string,
  now: string,
  expected?: EndpointRow,
): Promise<boolean> {
  const guard = expected ? unchangedSince(expected) : { sql: "1", params: [] };
  const stillThere = `EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ? AND ${guard.sql})`;
  const results = await db.batch([
    db.prepare(`DELETE FROM webhook_secrets WHERE endpoint_id = ? AND ${stillThere}`).bind(id, id, ...guard.params),
    db
      .prepare(
        `UPDATE deliveries SET status = 'failed', last_error = 'endpoint deleted', updated_at = ?
         WHERE endpoint_id = ? AND status = 'pending' AND ${stillThere}`,
      )
      .bind(now, id, id, ...guard.params),
    db.prepare(`DELETE FROM webhook_endpoints WHERE id = ? AND ${guard.sql}`).bind(id, ...guard.params),
  ]);
  return (results.at(-1)?.meta.changes ?? 0) > 0;
}

/** Adds a secret; every other current one expires at `expiresAt`, and the already expired ones are dropped. */
export async function rotateSecrets(
  db: D1Database,
  endpointId: string,
  secret: SecretRow,
  expiresAt: string,
  now: string,
  alongside: D1PreparedStatement[] = [],
): Promise<void> {
  await db.batch([
    db
      .prepare(
        "UPDATE webhook_secrets SET expires_at = ? WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)",
      )
      .bind(expiresAt, endpointId, expiresAt),
    insertSecret(db, endpointId, secret),
    db
      .prepare("DELETE FROM webhook_secrets WHERE endpoint_id = ? AND expires_at IS NOT NULL AND expires_at <= ?")
      .bind(endpointId, now),
    ...alongside,
  ]);
}

/**
 * A row of `endpointsWatching`: a webhook endpoint (`delivers: 1`) or a poll-only subscription (`delivers: 0`).
 * Both come in the endpoint's shape; a subscription's `url` is empty, it is always `enabled`, and it never gets
 * a delivery: change detection records its tenant's events and delivers only to rows with `enabled === 1 &&
 * delivers === 1`.
 */
export interface WatchingRow extends Omit<EndpointRow, "rate_limit" | "max_in_flight"> {
  delivers: 0 | 1;
}

export const ENDPOINT_COLUMNS =
  "id, tenant, url, description, event_types, sources, enabled, disabled_reason, created_at, updated_at";
