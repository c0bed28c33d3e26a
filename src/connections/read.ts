/** The credentials reads use: a source's connection's when it names one, else the request's or the deployment's. */
import type { Provider, SourceKey } from "../schemas/sources";
import type { Credential } from "../upstream/credential";
import { markRejected } from "./lifecycle";
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
  const resolved = await checkedConnections(env, tenant, keys, where, true);
  return keys.map((key) => {
    const found = key.connection === undefined ? undefined : resolved.get(key.connection);
    return found
      ? connectionCredential(env, found, (row, info) => markRejected(env, row, info), waitUntil)
      : fallback(key.provider);
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
