/**
 * A connection's life: saved only once the upstream accepts its credential, given a new credential in place (checked
 * first), marked `invalid` the moment the upstream rejects it, `active` again when a working one is patched in or a
 * test finds the stored one accepted again, and `deleted` with its credential erased. Every change of status is
 * recorded with its event (`connection.invalid`, `.recovered`, `.deleted`) in one transaction.
 */
import { mintEvent } from "../events/model";
import { recordAndQueue } from "../events/record";
import { anyoneSubscribes, deliveriesOf, tenantWatchers } from "../events/watchers";
import { probeCredential } from "../providers/probe";
import type { ConnectionEventType } from "../schemas/events";
import { type Provider, providerNames } from "../schemas/sources";
import { newId } from "../shared/ids";
import { ProblemError } from "../shared/problem";
import { isoMicros } from "../shared/time";
import { type AnswerStatements, noAnswer } from "../storage/answer-statements";
import type { UpstreamInfo } from "../upstream/fetch";
import { keysOrStep, openForUse, sealCredential } from "./keyring";
import { toConnection } from "./model";
import { changedWhileReading, invalidConnection } from "./problems";
import { forgetConnection } from "./resolve";
import {
  type ConnectionRow,
  findConnection,
  insertConnection,
  isTransitionConflict,
  lastSequence,
  saveConnection,
  transitionStatements,
} from "./store";

/** The upstream's answer to a rejected credential (401 or 403), or null for any other failure. */
function rejection(err: unknown): UpstreamInfo | null {
  if (!(err instanceof ProblemError)) return null;
  const upstream = err.init.extensions?.upstream as UpstreamInfo | undefined;
  return upstream && (upstream.status === 401 || upstream.status === 403) ? upstream : null;
}

/** What the upstream said when it rejected a credential, in words for `last_error` and problems. */
const rejectedText = (provider: Provider, info: UpstreamInfo) =>
  `${providerNames[provider]} rejected the credential with HTTP ${info.status}${info.code === null ? "" : ` (code ${info.code})`}`;

/**
 * Checks a credential with one upstream call before anything is stored. A rejected one is a 422 naming the provider
 * and its answer; an upstream that cannot be reached is its 502/503/504, and nothing is stored either way.
 */
async function accepted(env: Env, provider: Provider, accountId: string | null, secret: string): Promise<void> {
  try {
    await probeCredential(env, provider, accountId, secret);
  } catch (err) {
    const info = rejection(err);
    if (!info) throw err;
    const detail = `${rejectedText(provider, info)} when it was checked; nothing was stored. Check the credential${provider === "8x8" ? " and that it belongs to account `account_id`" : ""}.`;
    throw new ProblemError("credential-rejected", {
      detail,
      errors: [{ in: "body", name: "credentials", message: detail }],
      extensions: { upstream: info },
    });
  }
}

interface NewConnection {
  tenant: string;
  provider: Provider;
  accountId: string | null;
  name: string | null;
  secret: string;
}

/** Saves a connection whose credential the upstream accepted; `answer` commits with it. */
export async function createConnection(
  env: Env,
  input: NewConnection,
  answer: AnswerStatements<ConnectionRow> = noAnswer,
): Promise<ConnectionRow> {
  const keys = keysOrStep(env);
  await accepted(env, input.provider, input.accountId, input.secret);
  const now = isoMicros(Date.now());
  const id = newId("conn");
  const { keyId, sealed } = await sealCredential(keys, { tenant: input.tenant, id }, input.secret);
  const row: ConnectionRow = {
    id,
    tenant: input.tenant,
    provider: input.provider,
    account_id: input.accountId,
    name: input.name,
    status: "active",
    sealed,
    key_id: keyId,
    last_error: null,
    last_used_at: null,
    status_changed_at: now,
    created_at: now,
    updated_at: now,
  };
  await insertConnection(env.DB, row, await answer(row));
  return row;
}

/**
 * Records a status change with its event, if the connection still has the status `row` shows (and, when `exact`, is
 * still exactly `row`). Only with `rewrite` (a rotation, a delete) are `next`'s name and credential written too.
 * Returns false when another change committed first.
 */
async function transition(
  env: Env,
  row: ConnectionRow,
  next: ConnectionRow,
  type: ConnectionEventType,
  guard: { exact: boolean; rewrite: boolean },
): Promise<boolean> {
  const db = env.DB;
  const [watchers, sequence] = await Promise.all([tenantWatchers(db, row.tenant), lastSequence(db, row.id)]);
  const event = anyoneSubscribes(watchers, type)
    ? mintEvent({
        tenant: row.tenant,
        type,
        source: null,
        objectId: row.id,
        object: toConnection(next),
        previous: { status: row.status },
        sequence: sequence + 1,
        now: next.updated_at,
      })
    : null;
  try {
    await recordAndQueue(env, {
      alongside: transitionStatements(db, row, next, sequence, guard),
      events: event ? [event] : [],
      deliveries: event ? deliveriesOf(event, watchers) : [],
      now: next.updated_at,
    });
    return true;
  } catch (err) {
    if (isTransitionConflict(err)) return false;
    throw err;
  } finally {
    forgetConnection(row.id);
  }
}

/** A change of status alone, whatever else changed since `row` was read: the stored name and credential stay. */
const NO_GUARD = { exact: false, rewrite: false };

const withStatus = (row: ConnectionRow, status: ConnectionRow["status"], lastError: string | null, now: string) => ({
  ...row,
  status,
  last_error: lastError,
  status_changed_at: now,
  updated_at: now,
});

/**
 * Gives a connection a new name or a new credential (checked with the upstream first; the id, cursors and detection's
 * position stay). A working credential brings an `invalid` connection back (`connection.recovered`). With `guarded`
 * (If-Match), only if the stored row is still `row`; without, only if it still has `row`'s status. Returns null when
 * it does not (the caller reads it again, or answers 412).
 */
export async function updateConnection(
  env: Env,
  row: ConnectionRow,
  patch: { name?: string | null; secret?: string },
  guarded = false,
): Promise<ConnectionRow | null> {
  const now = isoMicros(Date.now());
  let next: ConnectionRow = {
    ...row,
    name: patch.name === undefined ? row.name : patch.name,
    updated_at: now,
  };
  if (patch.secret !== undefined) {
    const keys = keysOrStep(env);
    await accepted(env, row.provider, row.account_id, patch.secret);
    const { keyId, sealed } = await sealCredential(keys, row, patch.secret);
    next = { ...next, sealed, key_id: keyId };
    if (row.status === "invalid") {
      const recovered = withStatus(next, "active", null, now);
      const guard = { exact: guarded, rewrite: true };
      return (await transition(env, row, recovered, "connection.recovered", guard)) ? recovered : null;
    }
  }
  const saved = await saveConnection(env.DB, next, guarded ? row : undefined);
  forgetConnection(row.id);
  return saved ? next : null;
}

/**
 * Deletes a connection: its credential is erased, its sources end (detection stops, cursors and feeds that name it
 * answer 404 saying why), and `connection.deleted` is recorded. With `guarded`, only if the row is still `row`.
 */
export async function deleteConnection(env: Env, row: ConnectionRow, guarded = false): Promise<boolean> {
  const now = isoMicros(Date.now());
  const gone = { ...withStatus(row, "deleted", null, now), sealed: null, key_id: null };
  return transition(env, row, gone, "connection.deleted", { exact: guarded, rewrite: true });
}

/**
 * Marks a connection `invalid` once the upstream rejected its credential on some use (`connection.invalid`, once
 * however many reads were refused at the same time), only while it is still exactly the connection the read resolved:
 * an isolate reads with what it resolved for a while (resolve.ts), so it may still hold a credential another isolate
 * has replaced since, and the refusal of that one says nothing of the new one. Returns the problem the refused read
 * answers with.
 */
export async function markRejected(env: Env, row: ConnectionRow, info: UpstreamInfo): Promise<ProblemError> {
  const now = isoMicros(Date.now());
  const reason = `${rejectedText(row.provider, info)} at ${now}`;
  if (row.status === "active") {
    // Only while the connection is still exactly the row this read resolved: a refusal of a credential it no longer
    // has (rotated in another isolate) marks nothing.
    const guard = { exact: true, rewrite: false };
    const marked = await transition(env, row, withStatus(row, "invalid", reason, now), "connection.invalid", guard);
    const current = marked ? null : await findConnection(env.DB, row.tenant, row.id);
    if (current?.status === "active") return changedWhileReading(current, info);
  }
  return invalidConnection({ ...row, status: "invalid", last_error: row.last_error ?? reason }, info);
}

/** What a test of the stored credential found. */
interface TestOutcome {
  ok: boolean;
  row: ConnectionRow;
  checkedAt: string;
  detail: string | null;
}

/**
 * Tests the stored credential with the same upstream call that checked it when saved: a rejection marks the
 * connection `invalid`, an acceptance brings an `invalid` one back. An unreachable upstream is its 502/503/504.
 */
export async function testConnection(env: Env, row: ConnectionRow): Promise<TestOutcome> {
  const keys = keysOrStep(env);
  const checkedAt = isoMicros(Date.now());
  const secret = await openForUse(keys, { ...row, sealed: row.sealed ?? "" });
  try {
    await probeCredential(env, row.provider, row.account_id, secret);
  } catch (err) {
    const info = rejection(err);
    if (!info) throw err;
    const problem = await markRejected(env, row, info);
    return { ok: false, row: { ...row, status: "invalid" }, checkedAt, detail: problem.init.detail };
  }
  if (row.status !== "invalid") return { ok: true, row, checkedAt, detail: null };
  const recovered = withStatus(row, "active", null, checkedAt);
  await transition(env, row, recovered, "connection.recovered", NO_GUARD);
  return { ok: true, row: recovered, checkedAt, detail: null };
}
