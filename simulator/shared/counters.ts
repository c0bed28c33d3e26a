/** Requests `recent()` keeps, the latest last: enough for any one test's calls, never unbounded. */
const RECENT_KEPT = 500;

/**
/**
 * Counts requests that reached an emulated route, keyed by "METHOD /route/:pattern", the list items served, so tests
 * can compare items fetched with items returned, and the requests each exact credential sent (a `~tag` included), so
 * tests can tell one tenant's or one credential's calls from another's. Keeps the latest requests' exact paths too
 * (query string included, headers never), so a test can see which resource a call named, not only which route it took.
 */
export class RequestCounters {
  readonly #routes = new Map<string, number>();
  readonly #credentials = new Map<string, number>();
  #recent: string[] = [];
  #total = 0;
  #items = 0;

  /** List items one response served. */
  served(count: number): void {
    this.#items += count;
  }

  /**
   * One request to the route `key`: `path` is what it asked for exactly (e.g. "GET /v1/invoke?page=1"), `credential`
   * what it was sent with ("" when none).
   */
  record(key: string, path: string, credential: string): void {
    this.#total += 1;
    this.#routes.set(key, (this.#routes.get(key) ?? 0) + 1);
    this.#credentials.set(credential, (this.#credentials.get(credential) ?? 0) + 1);
    this.#recent.push(path);
    if (this.#recent.length > RECENT_KEPT) this.#recent.splice(0, this.#recent.length - RECENT_KEPT);
  }

  /** The latest requests counted (up to 500), oldest first, as "METHOD /path?query". */
  recent(): string[] {
    return [...this.#recent];
  }

  snapshot(): { total: number; items: number; routes: Record<string, number> } {
    return { total: this.#total, items: this.#items, routes: Object.fromEntries(this.#routes) };
  }

  /** Requests per exact credential string, as sent (known or not, revoked or not). */
  byCredential(): Record<string, number> {
    return Object.fromEntries(this.#credentials);
  }

  clear(): void {
    this.#total = 0;
    this.#items = 0;
    this.#routes.clear();
    this.#credentials.clear();
    this.#recent = [];
  }
}
