import type { RequestCache } from "../cache/request-cache";
import type { Config } from "../config";
import type { Logger } from "../shared/logger";
import type { IdempotencyKeyRef } from "./idempotency/store";

/** The caller, once authenticated. */
export interface Caller {
  /**
   * The tenant: the id of the API key that made the request (its hex SHA-256, truncated), safe to log and to bind
   * cursors and cache entries to. Everything a tenant creates is owned by it. The code and D1 (the `tenant` column of
   * every table) use this one name; logs call it `key_id`.
   */
  tenant: string;
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
  ref: IdempotencyKeyRef;
  token: string;
  keptInWrite: boolean;
}
