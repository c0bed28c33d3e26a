import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { commaList } from "../config";
import { sha256, toHex } from "../shared/digest";
import { ProblemError } from "../shared/problem";
import type { AppEnv } from "./app-env";

interface BearerAuthOptions {
  realm: string;
  /** The setting that lists the tokens accepted, as the deployment holds it. */
  setting: (env: Env) => string | undefined;
  /** The tokens `setting` accepts; none means the check is not configured, and it fails closed with `unconfigured`. */
  tokens: (setting: string) => string[];
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

/** The tokens of one value of a setting, and their SHA-256 digests once computed. */
interface Keyring {
  tokens: string[];
  digests: Promise<ArrayBuffer[]>;
  /** The digests, once `digests` has resolved: a request then awaits only the hash of what it presents. */
  ready: ArrayBuffer[] | null;
}

/**
 * The keyrings of a setting's values: parsed and hashed once per isolate and value (secrets do not change while an
 * isolate lives; another value, e.g. in tests, gets its own entry). Each request then hashes only what it presents.
 */
function keyrings(parse: (setting: string) => string[]): (setting: string) => Keyring {
  const bySetting = new Map<string, Keyring>();
  return (setting) => {
    let keyring = bySetting.get(setting);
    if (!keyring) {
      if (bySetting.size >= 16) bySetting.clear();
      const tokens = parse(setting);
      const entry: Keyring = { tokens, digests: Promise.all(tokens.map(sha256)), ready: null };
      // A failure is not remembered: the next request tries again.
      entry.digests.then(
        (digests) => {
          entry.ready = digests;
        },
        () => bySetting.delete(setting),
      );
      bySetting.set(setting, entry);
      keyring = entry;
    }
    return keyring;
  };
}

/**
 * Requires `Authorization: Bearer <token>` with one of the configured tokens, compared in constant time.
 * @example app.use("/v1/*", bearerAuth({ realm: "tributary", setting: (env) => env.API_KEYS, tokens: commaList, … }))
 */
export function bearerAuth(opts: BearerAuthOptions) {
  const challenge = { "WWW-Authenticate": `Bearer realm="${opts.realm}"` };
  const rejected = opts.invalidTokenError
    ? { "WWW-Authenticate": `Bearer realm="${opts.realm}", error="invalid_token"` }
    : challenge;
  const keyringOf = keyrings(opts.tokens);
  return createMiddleware<AppEnv>(async (c, next) => {
    const keyring = keyringOf(opts.setting(c.env) ?? "");
    if (keyring.tokens.length === 0) throw new ProblemError("service-unavailable", { detail: opts.unconfigured });
    const presented = BEARER.exec(c.req.header("Authorization") ?? "")?.[1];
    if (!presented) throw new ProblemError("unauthorized", { detail: opts.missing, headers: challenge });
    // Digests compared in constant time (equal lengths whatever the tokens), every one of them (no early exit), so
    // timing reveals neither how much of a token matched nor which one did.
    const digest = await sha256(presented);
    const configured = keyring.ready ?? (await keyring.digests);
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
  setting: (env) => env.API_KEYS,
  tokens: commaList,
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
