/** Rows of `idempotency_keys`: the first answer of each keyed POST, and every statement over them. */

/** Whose key it is and what it names: the primary key. */
export interface IdempotencyKeyRef {
  tenant: string;
  operation: string;
  key: string;
}

export interface IdempotencyRow {
  tenant: string;
  operation: string;
  idempotency_key: string;
  fingerprint: string;
  token: string;
  locked_until: string | null;
  /** Null while the request that claimed the key is still running. */
  status: number | null;
  headers: string | null;
  body: string | null;
  sealed: 0 | 1;
  created_at: string;
  expires_at: string;
}

interface IdempotencyClaim extends IdempotencyKeyRef {
  fingerprint: string;
  token: string;
  now: string;
  lockedUntil: string;
  expiresAt: string;
}

/** The answer kept for replays. */
export interface RecordedAnswer {
  status: number;
  headers: string;
  body: string;
  sealed: 0 | 1;
}

const WHERE_KEY = "tenant = ? AND operation = ? AND idempotency_key = ?";
const keyOf = (s: IdempotencyKeyRef) => [s.tenant, s.operation, s.key];

/**
 * Claims a key, in one batch (one transaction, one round trip): inserts the claim when the key is new, takes the row
 * over when it has expired or when a request for the same fingerprint stopped running without an answer (its lock
 * passed), and leaves it alone otherwise. Returns the row as it now stands: the claim is ours when its `token` is.
 */
export async function claimIdempotencyKey(db: D1Database, claim: IdempotencyClaim): Promise<IdempotencyRow> {
  const [, current] = await db.batch<IdempotencyRow>([
    db
      .prepare(
        `INSERT INTO idempotency_keys (tenant, operation, idempotency_key, fingerprint, token, locked_until, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (tenant, operation, idempotency_key) DO UPDATE SET
           fingerprint = excluded.fingerprint, token = excluded.token, locked_until = excluded.locked_until,
           status = NULL, headers = NULL, body = NULL, sealed = 0,
           created_at = excluded.created_at, expires_at = excluded.expires_at
         WHERE idempotency_keys.expires_at <= ?7
           OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_until <= ?7 AND idempotency_keys.fingerprint = ?4)`,
      )
      .bind(...keyOf(claim), claim.fingerprint, claim.token, claim.lockedUntil, claim.now, claim.expiresAt),
    db.prepare(`SELECT * FROM idempotency_keys WHERE ${WHERE_KEY}`).bind(...keyOf(claim)),
  ]);
  const row = current?.results[0];
  if (!row) throw new Error("idempotency key claim returned no row");
  return row;
}

/**
 * The statement keeping the answer of a claimed key. Run in the operation's own write transaction, the operation and
 * its kept answer commit together (see `keptInWrite`); it changes nothing when the claim was lost meanwhile (taken
 * over after its lock passed).
 */
export function idempotentAnswerStatement(
  db: D1Database,
  ref: IdempotencyKeyRef,
  token: string,
  answer: RecordedAnswer,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE idempotency_keys SET status = ?, headers = ?, body = ?, sealed = ?, locked_until = NULL
       WHERE ${WHERE_KEY} AND token = ?`,
    )
    .bind(answer.status, answer.headers, answer.body, answer.sealed, ...keyOf(ref), token);
}

/** Keeps the answer of a claimed key; false when the claim was lost meanwhile (taken over after its lock passed). */
export async function recordIdempotentAnswer(
  db: D1Database,
  ref: IdempotencyKeyRef,
  token: string,
  answer: RecordedAnswer,
): Promise<boolean> {
  const result = await idempotentAnswerStatement(db, ref, token, answer).run();
  return result.meta.changes > 0;
}

/**
 * Frees a claimed key whose request kept no answer (it failed): a retry runs the operation afresh. A key whose answer
 * was committed with its operation stays: the operation took effect, whatever failed after it.
 */
export async function releaseIdempotencyKey(db: D1Database, ref: IdempotencyKeyRef, token: string): Promise<void> {
  await db
    .prepare(`DELETE FROM idempotency_keys WHERE ${WHERE_KEY} AND token = ? AND status IS NULL`)
    .bind(...keyOf(ref), token)
    .run();
}

/** Deletes up to `limit` keys that expired by `now` (a claim reuses an expired row anyway: this only frees space). */
export async function pruneIdempotencyKeys(db: D1Database, now: string, limit: number): Promise<number> {
  const result = await db
    .prepare(
      "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)",
    )
    .bind(now, limit)
    .run();
  return result.meta.changes;
}
