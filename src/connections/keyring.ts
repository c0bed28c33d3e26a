/**
 * The connections' keyring: credentials are sealed with AES-256-GCM under the first key of
 * `CONNECTION_ENCRYPTION_KEYS`, with the tenant and the connection id as additional data, so a sealed value copied to
 * another row (or another tenant) does not open. Every key listed still opens what it sealed: a new key goes first,
 * the cron seals old rows again (`resealOlder`), and the old key can be removed once none is left.
 */
import { connectionKeysProblem, cursorSecretEntries } from "../config";
import { ProblemError } from "../shared/problem";
import { openWithKeyring, type SealingKey, sealWithKeyring } from "../shared/sealing";

const PURPOSE = "connection-credentials";

/** What binds a sealed credential to its row. */
const contextOf = (row: { tenant: string; id: string }) => `${row.tenant}|${row.id}`;

/** The deployment's keys, or why there are none fit to use (a missed step: routes answer 503 naming it). */
export function connectionKeys(env: Env): { keys: SealingKey[] } | { problem: string } {
  const text = (env as Partial<Env>).CONNECTION_ENCRYPTION_KEYS;
  const problem = connectionKeysProblem(text);
  return problem ? { problem } : { keys: cursorSecretEntries(text) };
}

/** The deployment's keys, or the 503 `deployment-incomplete` that names the missing step. */
export function keysOrStep(env: Env): SealingKey[] {
  const keyring = connectionKeys(env);
  if ("problem" in keyring) throw new ProblemError("deployment-incomplete", { detail: `${keyring.problem}.` });
  return keyring.keys;
}

/** Seals a credential for its row. */
export const sealCredential = (keys: SealingKey[], row: { tenant: string; id: string }, secret: string) =>
  sealWithKeyring(keys, PURPOSE, contextOf(row), secret);

/** Opens a row's sealed credential; throws when no listed key opens it. */
export const openCredential = (keys: SealingKey[], row: { tenant: string; id: string; sealed: string }) =>
  openWithKeyring(keys, PURPOSE, contextOf(row), row.sealed);

/**
 * A row's credential, opened for a use (a read, a test); a deployment whose keyring no longer opens it (its key was
 * removed, or replaced by another secret under the same id) has missed a step: a 503 that says which key it needs.
 */
export async function openForUse(
  keys: SealingKey[],
  row: { tenant: string; id: string; sealed: string; key_id: string | null },
): Promise<string> {
  try {
    return await openCredential(keys, row);
  } catch {
    throw new ProblemError("deployment-incomplete", {
      detail: `CONNECTION_ENCRYPTION_KEYS does not open the credential of connection ${row.id}: it was sealed with key ${row.key_id}, which is missing or has another secret. Put that key back in the list (after the first).`,
    });
  }
}
