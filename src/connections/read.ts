/** The credentials reads use: a source's connection's when it names one, else the request's or the deployment's. */
import type { Provider, SourceKey } from "../schemas/sources";
import type { ProblemError } from "../shared/problem";
import type { Credential } from "../upstream/credential";
import { markRejected } from "./lifecycle";
import { invalidConnection } from "./problems";
import { checkedConnections, connectionCredential, type Named, type Resolved, resolveConnections } from "./resolve";

/** Who reads, and what a source without a connection is read with. */
export interface ReadRequest {
  env: Env;
  tenant: string;
  /** Where the sources were named: the field a problem about one of their connections names. */
  where: Named;
  /** The credential of a source without a connection: the one the request sent, else the deployment's. */
  fallback: (provider: Provider) => Credential;
  waitUntil: (p: Promise<unknown>) => void;
}

/**
 * The credential to read each of `keys` with: its connection's (which must be the tenant's, usable, and fit the
 * source: see `checkedConnections`), or `fallback(provider)` for a source without one. A read whose credential the
 * upstream rejects marks its connection `invalid` and answers 409.
 * @example const [credential] = await sourceCredentials({ env, tenant, where, fallback, waitUntil }, [key])
 */
export async function sourceCredentials(req: ReadRequest, keys: SourceKey[]): Promise<Credential[]> {
  // Every connection is usable here (an invalid one is refused first): none of them is a problem.
  return (await credentialsOf(req, keys, true)) as Credential[];
}

/**
 * `sourceCredentials` for a walk that serves the sources it can (a feed's `partial=true`): a source whose connection
 * is `invalid` gets that connection's 409 in place of a credential, for its own lane to fail with (no upstream call),
 * as it would had the upstream just rejected it. A connection that is another key's, deleted or unfit is still the
 * whole request's 404 or 400.
 */
export const eachSourceCredential = (req: ReadRequest, keys: SourceKey[]): Promise<(Credential | ProblemError)[]> =>
  credentialsOf(req, keys, false);

async function credentialsOf(
  { env, tenant, where, fallback, waitUntil }: ReadRequest,
  keys: SourceKey[],
  usable: boolean,
): Promise<(Credential | ProblemError)[]> {
  const resolved = await checkedConnections(env, tenant, keys, where, usable);
  return keys.map((key) => {
    const found = key.connection === undefined ? undefined : resolved.get(key.connection);
    if (!found) return fallback(key.provider);
    if (found.row.status === "invalid") return invalidConnection(found.row);
    return usedBy(env, found, waitUntil);
  });
}

/** The credential of a usable resolved connection, which marks it `invalid` when the upstream rejects it. */
const usedBy = (env: Env, found: Resolved, waitUntil: (p: Promise<unknown>) => void) =>
  connectionCredential(env, found, (row, info) => markRejected(env, row, info), waitUntil);

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
  return { credential: usedBy(env, found, waitUntil) };
}
