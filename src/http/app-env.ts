import type { RequestCache } from "../cache/request-cache";
import type { Config } from "../config";
import type { Logger } from "../shared/logger";
import type { IdempotencyScope } from "./idempotency/store";

/** The caller, once authenticated: a stable, non-reversible id for its API key. */
export interface Caller {
  /** Hex SHA-256 of the API key, truncated: safe to log and to bind cursors and cache entries to. */
  keyId: string;
}

/** Hono environment of the app: bindings come from `wrangler types` (worker-configuration.d.ts). */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    caller: Caller;
    /** Set by `init`, before any other middleware of ours. */
    config: Config;
    log: Logger;
    cache: RequestCache;
    /** Set by `idempotent` while a request holds its `Idempotency-Key` (see http/idempotency). */
    idempotency?: KeyClaim;
  };
}

/** A claimed `Idempotency-Key`: whose it is, the claim's token, and whether the operation's write keeps its answer. */
export interface KeyClaim {
  scope: IdempotencyScope;
  token: string;
  keptInWrite: boolean;
}
