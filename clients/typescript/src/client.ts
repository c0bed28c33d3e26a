import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema.js";

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
}

/**
 * A typed client for every tributary route (types generated from `openapi/openapi.json`).
 * @example
 * const client = createTributaryClient({ baseUrl: "http://127.0.0.1:8787", apiKey: process.env.TRIBUTARY_KEY });
 * const { data, error } = await client.GET("/v1/inkit/runs", { params: { query: { limit: 10 } } });
 */
export function createTributaryClient(options: TributaryClientOptions): TributaryClient {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { ...options.headers, Authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
