import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema.js";
import { idempotentPosts, type PostRetryOptions } from "./writes.js";

export type TributaryClient = Client<paths>;

export interface TributaryClientOptions {
  /** e.g. `https://tributary.example.com` (no `/v1`: the paths carry it). */
  baseUrl: string;
  /** An API key from the deployment's `API_KEYS`. */
  apiKey: string;
  /** Another fetch, e.g. a service binding's, or one that logs. Default: the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /** Extra headers on every request, e.g. `X-Inkit-API-Token` to use your own upstream credential. */
  headers?: Record<string, string>;
  /**
   * How POSTs are retried after a network error, a 429, a 5xx or a 409 `idempotency-key-in-use`, always with the
   * call's own `Idempotency-Key`. Default: 4 retries, waits up to 30 s; `{ maxRetries: 0 }` sends each POST once.
   */
  postRetries?: PostRetryOptions;
}

/**
 * A typed client for every tributary route (types generated from `openapi/openapi.json`). Every POST carries an
 * `Idempotency-Key`, one per call and kept across the client's own retries (see `idempotentPosts`), so a create or a
 * rotation retried after a lost answer still happens once.
 * @example
 * const client = createTributaryClient({ baseUrl: "http://127.0.0.1:8787", apiKey: process.env.TRIBUTARY_KEY });
 * const { data, error } = await client.GET("/v1/inkit/runs", { params: { query: { limit: 10 } } });
 */
export function createTributaryClient(options: TributaryClientOptions): TributaryClient {
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { ...options.headers, Authorization: `Bearer ${options.apiKey}` },
    fetch: idempotentPosts(send, options.postRetries),
  });
}
