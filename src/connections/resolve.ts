/**
 * From a connection id to the credential a read uses. An isolate keeps what it resolved (the row and the opened
 * credential) in memory for a short while, so a warm isolate makes no D1 read and no decryption per request; the
 * plaintext lives nowhere else. A change made in this isolate forgets its entry at once; other isolates follow within
 * `FRESH_MS` (a rotated credential may be used that much longer, a deleted one is refused within it).
 */
import { formatSourceKey, type SourceKey } from "../schemas/sources";
import { ProblemError } from "../shared/problem";
import { isoMicros } from "../shared/time";
import type { Credential } from "../upstream/credential";
import { keysOrStep, openForUse } from "./keyring";
import { invalidConnection } from "./problems";
import { type ConnectionRow, connectionsByIds, touchConnection } from "./store";

const FRESH_MS = 30_000;
/** How often one isolate records a connection's `last_used_at`. */
const TOUCH_EVERY_MS = 60_000;
const MAX_KEPT = 2000;

export interface Resolved {
  row: ConnectionRow;
  /** The opened credential; null for a deleted connection. */
  secret: string | null;
  until: number;
}

const memory = new Map<string, Resolved>();
const touched = new Map<string, number>();

/** Forgets what this isolate resolved for a connection: after any change to it here. */
export function forgetConnection(id: string): void {
  memory.delete(id);
}

/** Forgets every connection this isolate resolved, as a new isolate starts without any: for tests. */
export function forgetConnections(): void {
  memory.clear();
  touched.clear();
}

/** The rows and opened credentials of these connections: from memory when fresh, else in one D1 read. */
export async function resolveConnections(env: Env, ids: string[]): Promise<Map<string, Resolved>> {
  const now = Date.now();
  const found = new Map<string, Resolved>();
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const kept = memory.get(id);
    if (kept && kept.until > now) found.set(id, kept);
    else missing.push(id);
  }
  if (missing.length === 0) return found;
  const keys = keysOrStep(env);
  for (const row of await connectionsByIds(env.DB, missing)) {
    const secret = row.sealed === null ? null : await openForUse(keys, { ...row, sealed: row.sealed });
    const resolved = { row: { ...row, sealed: null }, secret, until: now + FRESH_MS };
    if (memory.size >= MAX_KEPT) memory.clear();
    memory.set(row.id, resolved);
    found.set(row.id, resolved);
  }
  return found;
}

/** What a read through a connection does when the upstream rejects its credential (see lifecycle.ts). */
type OnRejected = (
  row: ConnectionRow,
  info: Parameters<NonNullable<Credential["connection"]>["rejected"]>[0],
) => Promise<ProblemError>;

/**
 * The credential of a resolved, usable connection: it reads as the connection, answers for it when the upstream
 * rejects it, and records the use (at most once a minute per isolate, in the background).
 */
export function connectionCredential(
  env: Env,
  resolved: Resolved,
  onRejected: OnRejected,
  waitUntil: (p: Promise<unknown>) => void,
): Credential {
  const { row } = resolved;
  const now = Date.now();
  if ((touched.get(row.id) ?? 0) + TOUCH_EVERY_MS <= now) {
    touched.set(row.id, now);
    waitUntil(touchConnection(env.DB, row.id, isoMicros(now)).catch(() => {}));
  }
  return {
    value: resolved.secret ?? "",
    passThrough: false,
    connection: { id: row.id, rejected: (info) => onRejected(row, info) },
  };
}

/** Where a source named its connection: the field a problem names. */
export interface Named {
  in: "query" | "body" | "cursor";
  name: string;
}

/**
 * The connections some sources name, checked for `tenant`: each must exist, be the tenant's and not be deleted (else
 * a 404 that says why), and an 8x8 source must name the connection's own account (else a 400). `usable` also refuses
 * an `invalid` one (409, how to fix it): listings need a working credential, while an endpoint, a subscription or a
 * feed may name one that will be fixed.
 */
export async function checkedConnections(
  env: Env,
  tenant: string,
  keys: SourceKey[],
  where: Named,
  usable: boolean,
): Promise<Map<string, Resolved>> {
  const through = keys.filter((k) => k.connection !== undefined);
  if (through.length === 0) return new Map();
  const resolved = await resolveConnections(
    env,
    through.map((k) => k.connection as string),
  );
  for (const key of through) {
    const id = key.connection as string;
    const found = resolved.get(id);
    const message = (text: string) => ({ detail: text, errors: [{ ...where, message: text }] });
    if (!found || found.row.tenant !== tenant)
      throw new ProblemError("not-found", message(`No connection ${id} belongs to your API key.`));
    const { row } = found;
    if (row.status === "deleted")
      throw new ProblemError(
        "not-found",
        message(
          `Connection ${id} was deleted at ${row.status_changed_at}: its sources end. Save the account again (POST /v1/connections) and name the new connection.`,
        ),
      );
    if (row.provider !== key.provider)
      throw new ProblemError(
        "validation-error",
        message(
          `Connection ${id} is a ${row.provider} connection; ${formatSourceKey(key)} is not a ${row.provider} source.`,
        ),
      );
    if (key.provider === "8x8" && row.account_id !== key.accountId)
      throw new ProblemError(
        "validation-error",
        message(
          `Connection ${id} belongs to 8x8 account ${row.account_id}, not ${key.accountId}: name that account's definitions through it.`,
        ),
      );
    if (usable && row.status === "invalid") throw invalidConnection(row);
  }
  return resolved;
}
