/**
 * Counts requests that reached an emulated route, keyed by "METHOD /route/:pattern", and the list items served,
 * so tests can compare items fetched with items returned.
 */
export class RequestCounters {
  readonly #routes = new Map<string, number>();
  #total = 0;
  #items = 0;

  /** List items one response served. */
  served(count: number): void {
    this.#items += count;
  }

  record(key: string): void {
    this.#total += 1;
    this.#routes.set(key, (this.#routes.get(key) ?? 0) + 1);
  }

  snapshot(): { total: number; items: number; routes: Record<string, number> } {
    return { total: this.#total, items: this.#items, routes: Object.fromEntries(this.#routes) };
  }

  clear(): void {
    this.#total = 0;
    this.#items = 0;
    this.#routes.clear();
  }
}
