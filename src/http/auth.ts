import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { commaList } from "../config";
import type { AppEnv } from "../env";
import { secretsEqual, sha256Hex } from "./digest";
import { ProblemError } from "./problem";

export interface BearerAuthOptions {
  realm: string;
  /** The tokens accepted; none means the check is not configured, and it fails closed with `unconfigured`. */
  tokens: (env: Env) => string[];
  unconfigured: string;
  /** The 401's detail when the header is missing or malformed, and when the token is not accepted. */
  missing: string;
  invalid: string;
  /** Adds `error="invalid_token"` to the challenge of a rejected token (RFC 6750 §3.1). */
  invalidTokenError?: boolean;
  /** Runs once the token is accepted, before the route. */
  accepted?: (c: Context<AppEnv>, token: string) => Promise<void> | void;
}

const BEARER = /^Bearer +(\S+)\s*$/i;

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
    let accepted = false;
    // Check every token (no early exit) so timing does not reveal which one matched.
    for (const token of tokens) accepted = (await secretsEqual(presented, token)) || accepted;
    if (!accepted) throw new ProblemError("unauthorized", { detail: opts.invalid, headers: rejected });
    await opts.accepted?.(c, presented);
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
  accepted: async (c, key) => c.set("caller", { keyId: (await sha256Hex(key)).slice(0, 32) }),
});
