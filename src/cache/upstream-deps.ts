import type { RequestCache } from "./request-cache";

/** What an upstream read needs: the bindings and the cache of the request (or cron run) it serves. */
export interface UpstreamDeps {
  env: Env;
  cache: RequestCache;
}

/** A canonical form of an upstream request, so identical requests share a cache entry. */
export function canonicalRequest(path: string, query: Record<string, string>): string {
  const params = new URLSearchParams(Object.entries(query).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${path}?${params}`;
}
