/** Counts requests that reached an emulated route, keyed by "METHOD /route/:pattern". */
export class RequestCounters {
  readonly #routes = new Map<string, number>();
  #total = 0;

  record(key: string): void {
    this.#total += 1;
    this.#routes.set(key, (this.#routes.get(key) ?? 0) + 1);
  }

  snapshot(): { total: number; routes: Record<string, number> } {
    return { total: this.#total, routes: Object.fromEntries(this.#routes) };
  }

  clear(): void {
    this.#total = 0;
    this.#routes.clear();
  }
}
