// What a route reads each source with: the caller's connection when the source names one, else the credential the
// caller sent in its header, else the deployment's own.
import type { Context } from "hono";
import { eachSourceCredential, type ReadRequest, sourceCredentials } from "../connections/read";
import { checkedConnections, type Named } from "../connections/resolve";
import type { AppEnv } from "../http/app-env";
import { tenantOf } from "../http/auth";
import type { Filters } from "../paging/listing";
import { passThroughHeaders, upstreamCredential } from "../providers/credentials";
import { type Provider, parseSourceKey, type SourceKey } from "../schemas/sources";
import { ProblemError } from "../shared/problem";
import type { Credential } from "../upstream/credential";

/**
 * The credentials to read `keys` with for this request (see `sourceCredentials`): a connection it names must be the
 * caller's and usable. A source read through a connection while the request also sends that provider's credential
 * header is a 400: one or the other.
 */
export async function readCredentials(c: Context<AppEnv>, keys: SourceKey[], where: Named): Promise<Credential[]> {
  return sourceCredentials(readRequest(c, keys, where), keys);
}

/**
 * `readCredentials` for a feed walk that serves the sources it can (`partial=true`): a source whose connection is
 * invalid gets its 409 instead of a credential, for its lane alone to fail with (see `eachSourceCredential`).
 */
export async function readEachCredential(
  c: Context<AppEnv>,
  keys: SourceKey[],
  where: Named,
): Promise<(Credential | ProblemError)[]> {
  return eachSourceCredential(readRequest(c, keys, where), keys);
}

/** What both read with: the request's tenant and credentials; a connection and a credential header together: 400. */
function readRequest(c: Context<AppEnv>, keys: SourceKey[], where: Named): ReadRequest {
  const clash = keys.find((key) => key.connection && c.req.header(passThroughHeaders[key.provider]));
  if (clash) {
    const header = passThroughHeaders[clash.provider];
    const message = `Send either ${header} or a connection (${clash.connection}), not both.`;
    throw new ProblemError("validation-error", {
      detail: message,
      errors: [{ in: "header", name: header.toLowerCase(), message }],
    });
  }
  return {
    env: c.env,
    tenant: tenantOf(c),
    where,
    fallback: (provider: Provider) => upstreamCredential(c, provider),
    waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p),
  };
}

/** A walk's `connection` filter, and where it came from (the request or, on later pages, its cursor). */
export function connectionFilter(filters: Filters, sent: { connection?: string }) {
  const { connection, ...rest } = filters;
  return {
    connection: typeof connection === "string" ? connection : undefined,
    where: { in: sent.connection === undefined ? "cursor" : "query", name: "connection" } as Named,
    /** The filters the upstream applies: everything but the connection. */
    upstream: rest,
  };
}

/**
 * Checks the connections that stored sources name (an endpoint's, a subscription's or a feed's): each must be the
 * caller's and not deleted. An `invalid` one is accepted: it can be fixed, and its sources then resume.
 */
export async function checkSourceConnections(c: Context<AppEnv>, sources: string[], where: Named): Promise<void> {
  const keys = sources.map(parseSourceKey).filter((key): key is SourceKey => key !== null);
  await checkedConnections(c.env, tenantOf(c), keys, where, false);
}
