/** Rows of `connections` and `connection_transitions` (migration 0007), and every D1 statement over them. */

import type { ConnectionStatus } from "../schemas/connection";
import type { Provider } from "../schemas/sources";
import { insertWith } from "../storage/insert-many";
import { findOwned } from "../storage/owned-rows";

export interface ConnectionRow {
  id: string;
  tenant: string;
  provider: Provider;
  account_id: string | null;
  name: string | null;
  status: ConnectionStatus;
  /** `<key id>.<iv>.<ciphertext>` (see keyring.ts); null once deleted. */
  sealed: string | null;
  key_id: string | null;
  last_error: string | null;
  last_used_at: string | null;
  status_changed_at: string;
  created_at: string;
  updated_at: string;
}

export const insertConnection = (db: D1Database, row: ConnectionRow, alongside: D1PreparedStatement[] = []) =>
  insertWith(db, "connections", row, alongside);

/** The tenant's connection (deleted ones too: they say why their sources end), or null. */
export const findConnection = (db: D1Database, tenant: string, id: string) =>
  findOwned<ConnectionRow>(db, "connections", tenant, id);

/** Connections by id, whoever owns them: one query for a whole feed's sources. */
export async function connectionsByIds(db: D1Database, ids: string[]): Promise<ConnectionRow[]> {
  if (ids.length === 0) return [];
  const { results } = await db
    .prepare(`SELECT * FROM connections WHERE id IN (${ids.map(() => "?").join(", ")})`)
    .bind(...ids)
    .all<ConnectionRow>();
  return results;
}

/** A condition that holds while the connection is still exactly `row`: the guard of a write under `If-Match`. */
function unchangedSince(row: ConnectionRow): { sql: string; params: (string | null)[] } {
  return {
    sql: "name IS ? AND status = ? AND sealed IS ? AND updated_at = ?",
    params: [row.name, row.status, row.sealed, row.updated_at],
  };
}

/**
 * Writes a connection's name and sealed credential; with `expected`, only if the stored row still equals it, else only
 * if it still has `next`'s status (a change of status since it was read, such as a refused read marking it invalid or
 * a delete, is not overwritten: the caller reads it again). Returns whether it was written.
 */
export async function saveConnection(db: D1Database, next: ConnectionRow, expected?: ConnectionRow): Promise<boolean> {
  const guard = expected ? unchangedSince(expected) : { sql: "status = ?", params: [next.status] };
  const result = await db
    .prepare(`UPDATE connections SET name = ?, sealed = ?, key_id = ?, updated_at = ? WHERE id = ? AND ${guard.sql}`)
    .bind(next.name, next.sealed, next.key_id, next.updated_at, next.id, ...guard.params)
    .run();
  return result.meta.changes > 0;
}

/**
 * The statements of a status change of `row` to `next` (one transaction with the event that reports it). The first
 * fails, and with it the whole batch, unless the connection still has `row.status` (with `exact`, is still exactly
 * `row`) and its last event sequence is still `sequence` (see migration 0007): two concurrent changes never both
 * commit (`isTransitionConflict`). A change of status alone writes the status, its reason and times only: `row` may be
 * one resolved for a read, which carries no credential and may be a little old. With `rewrite` (a PATCH that brings the
 * connection back, a delete) the name and the sealed credential of `next` are written too.
 */
export function transitionStatements(
  db: D1Database,
  row: ConnectionRow,
  next: ConnectionRow,
  sequence: number,
  { exact, rewrite }: { exact: boolean; rewrite: boolean },
): D1PreparedStatement[] {
  const still = exact ? "status = ?3 AND updated_at = ?7" : "status = ?3";
  const rewritten = rewrite ? ", name = ?6, sealed = ?7, key_id = ?8" : "";
  return [
    db
      .prepare(
        `INSERT INTO connection_transitions (connection_id, at, from_status, to_status, reason) VALUES (?1, ?2,
           (SELECT status FROM connections WHERE id = ?1 AND ${still}
              AND COALESCE((SELECT sequence FROM event_sequences WHERE source = ?1), 0) = ?4), ?5, ?6)`,
      )
      .bind(
        row.id,
        next.updated_at,
        row.status,
        sequence,
        next.status,
        next.last_error,
        ...(exact ? [row.updated_at] : []),
      ),
    db
      .prepare(
        `UPDATE connections SET status = ?1, last_error = ?2, status_changed_at = ?3, updated_at = ?4${rewritten} WHERE id = ?5`,
      )
      .bind(
        next.status,
        next.last_error,
        next.status_changed_at,
        next.updated_at,
        row.id,
        ...(rewrite ? [next.name, next.sealed, next.key_id] : []),
      ),
    db
      .prepare(
        "INSERT INTO event_sequences (source, sequence) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET sequence = excluded.sequence",
      )
      .bind(row.id, sequence + 1),
  ];
}

/** Whether a write failed because another status change of the connection committed first. */
export const isTransitionConflict = (err: unknown) =>
  /NOT NULL constraint failed: connection_transitions\.from_status/.test(String(err));

/** The last event sequence a connection handed out (0 before its first event). */
export async function lastSequence(db: D1Database, id: string): Promise<number> {
  const row = await db
    .prepare("SELECT sequence FROM event_sequences WHERE source = ?")
    .bind(id)
    .first<{ sequence: number }>();
  return row?.sequence ?? 0;
}

/** Records a use (a listing or a check read through it). */
export async function touchConnection(db: D1Database, id: string, at: string): Promise<void> {
  await db.prepare("UPDATE connections SET last_used_at = ? WHERE id = ?").bind(at, id).run();
}

/** Connections that are not `active`: detection sends no checks for their sources. */
export async function inactiveConnections(db: D1Database): Promise<Map<string, ConnectionStatus>> {
  const { results } = await db
    .prepare("SELECT id, status FROM connections WHERE status != 'active'")
    .all<{ id: string; status: ConnectionStatus }>();
  return new Map(results.map((r) => [r.id, r.status]));
}

/** Up to `limit` credentials sealed by another key than `keyId`: the ones to seal again under it. */
export async function sealedByOtherKeys(db: D1Database, keyId: string, limit: number): Promise<ConnectionRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM connections WHERE sealed IS NOT NULL AND key_id != ? LIMIT ?")
    .bind(keyId, limit)
    .all<ConnectionRow>();
  return results;
}

/** Replaces a sealed credential, only if it is still the one that was read (a rotation may have replaced it). */
export function resealStatement(db: D1Database, row: ConnectionRow, keyId: string, sealed: string) {
  return db
    .prepare("UPDATE connections SET sealed = ?, key_id = ? WHERE id = ? AND sealed = ?")
    .bind(sealed, keyId, row.id, row.sealed);
}
