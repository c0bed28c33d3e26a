/** The credentials reads use: a source's connection's when it names one, else the request's or the deployment's. */
import type { Provider, SourceKey } from "../schemas/sources";
import type { ProblemError } from "../shared/problem";
import type { Credential } from "../upstream/credential";
import { markRejected } from "./lifecycle";
import { invalidConnection } from "./problems";
import { checkedConnections, connectionCredential, type Named, resolveConnections } from "./resolve";

/**
 * The credential to read each of `keys` with, for `tenant`: its connection's (which must be the tenant's, usable, and
 * fit the source: see `checkedConnections`), or `fallback(provider)` for a source without one. A read whose credential
 * the upstream rejects marks its connection `invalid` and answers 409.
 * @example const [credential] = await sourceCredentials(c.env, tenantOf(c), [key], where, own, waitUntil)
 */
export async function sourceCredentials(
  env: Env,
  tenant: string,
  keys: SourceKey[],
  where: Named,
  fallback: (provider: Provider) => Credential,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Credential[]> {
  // Every connection is usable here (an invalid one is refused first): none of them is a problem.
  return (await credentialsOf(env, tenant, keys, where, fallback, waitUntil, true)) as Credential[];
}

/**
 * `sourceCredentials` for a walk that serves the sources it can (a feed's `partial=true`): a source whose connection
 * is `invalid` gets that connection's 409 in place of a credential, for its own lane to fail with (no upstream call),
 * as it would had the upstream just rejected it. A connection that is another key's, deleted or unfit is still the
 * whole request's 404 or 400.
 */
export const eachSourceCredential = (
  env: Env,
  tenant: string,
  keys: SourceKey[],
  where: Named,
  fallback: (provider: Provider) => Credential,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<(Credential | ProblemError)[]> => credentialsOf(env, tenant, keys, where, fallback, waitUntil, false);

async function credentialsOf(
  env: Env,
  tenant: string,
  keys: SourceKey[],
  where: Named,
  fallback: (provider: Provider) => Credential,
  waitUntil: (p: Promise<unknown>) => void,
  usable: boolean,
): Promise<(Credential | ProblemError)[]> {
  const resolved = await checkedConnections(env, tenant, keys, where, usable);
  return keys.map((key) => {
    const found = key.connection === undefined ? undefined : resolved.get(key.connection);
    if (!found) return fallback(key.provider);
    if (found.row.status === "invalid") return invalidConnection(found.row);
    return connectionCredential(env, found, (row, info) => markRejected(env, row, info), waitUntil);
  });
}

/** What change detection reads a connection's source with: its credential, or why it makes no call now. */
type DetectionRead = { credential: Credential } | { paused: "invalid" | "deleted" | "missing" };

/**
 * The credential a check of a source through a connection reads with; none (and no upstream call) while the
 * connection is `invalid`, deleted or gone: its state waits, nothing is lost.
 */
export async function detectionCredential(
  env: Env,
  connection: string,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<DetectionRead> {
  const found = (await resolveConnections(env, [connection])).get(connection);
  if (!found) return { paused: "missing" };
  if (found.row.status !== "active") return { paused: found.row.status };
  return { credential: connectionCredential(env, found, (row, info) => markRejected(env, row, info), waitUntil) };
}
