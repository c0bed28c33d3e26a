import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { commaList } from "../config";
import { sha256, toHex } from "../shared/digest";
import { ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";

interface BearerAuthOptions {
  realm: string;
  /** The tokens accepted; none means the check is not configured, and it fails closed with `unconfigured`. */
  tokens: (env: Env) => string[];
  unconfigured: string;
  /** The 401's detail when the header is missing or malformed, and when the token is not accepted. */
  missing: string;
  invalid: string;
  /** Adds `error="invalid_token"` to the challenge of a rejected token (RFC 6750 §3.1). */
  invalidTokenError?: boolean;
  /** Runs once the token is accepted, before the route; `digest` is the token's SHA-256. */
  accepted?: (c: Context<AppEnv>, token: string, digest: ArrayBuffer) => Promise<void> | void;
}

const BEARER = /^Bearer +(\S+)\s*$/i;

// SHA-256 of each configured token, computed once per isolate and set of tokens (secrets do not change while an
// isolate lives; a new set, e.g. in tests, gets its own entry). Each request then hashes only what it presents.
const configuredDigests = new Map<string, Promise<ArrayBuffer[]>>();

function digestsOf(tokens: string[]): Promise<ArrayBuffer[]> {
  const key = tokens.join("\u0000");
  let digests = configuredDigests.get(key);
  if (!digests) {
    if (configuredDigests.size >= 16) configuredDigests.clear();
    digests = Promise.all(tokens.map(sha256));
    // A failure is not remembered: the next request tries again.
    digests.catch(() => configuredDigests.delete(key));
    configuredDigests.set(key, digests);
  }
  return digests;
}

/**
 * Requires `Authorization: Bearer <token>` with one of the configured tokens, compared in constant time.
 * @example app.use("/v1/*", bearerAuth({ realm: "tributary", tokens: (env) => commaList(env.API_KEYS), … }))
 */
export function bearerAuth(opts: BearerAuthOptions) {
  const challenge = { "WWW-Authenticate": `Bearer realm="${opts.realm}"` };
  const rejected = opts.invalidTokenError
    ? { "WWW-Authenticate": `Bearer realm="${opts.realm}", error="invalid_token"` }
    : challenge;
  return createMiddleware<AppEnv>(async (c, next) => {
    const tokens = opts.tokens(c.env);
    if (tokens.length === 0) throw new ProblemError("service-unavailable", { detail: opts.unconfigured });
    const presented = BEARER.exec(c.req.header("Authorization") ?? "")?.[1];
    if (!presented) throw new ProblemError("unauthorized", { detail: opts.missing, headers: challenge });
    // Digests compared in constant time (equal lengths whatever the tokens), every one of them (no early exit), so
    // timing reveals neither how much of a token matched nor which one did.
    const [digest, configured] = await Promise.all([sha256(presented), digestsOf(tokens)]);
    let accepted = false;
    for (const d of configured) accepted = crypto.subtle.timingSafeEqual(digest, d) || accepted;
    if (!accepted) throw new ProblemError("unauthorized", { detail: opts.invalid, headers: rejected });
    await opts.accepted?.(c, presented, digest);
    await next();
  });
}

/** `/v1`: a key listed in the `API_KEYS` secret; fails closed (503) when no keys are configured. */
export const apiKeyAuth = bearerAuth({
  realm: "tributary",
  tokens: (env) => commaList(env.API_KEYS),
  unconfigured: "No API keys are configured for this deployment, so every /v1 request is refused.",
  missing: "Send your API key as `Authorization: Bearer <key>`.",
  invalid: "The API key is not valid.",
  invalidTokenError: true,
  // The key's hex SHA-256, truncated: the digest authentication computed already.
  accepted: (c, _key, digest) => c.set("caller", { tenant: toHex(digest).slice(0, 32) }),
});

/**
 * The tenant of an authenticated request: the id of its API key (see `Caller`).
 * @example await findFeed(c.env.DB, tenantOf(c), id)
 */
export const tenantOf = (c: Context<AppEnv>): string => c.get("caller").tenant;
