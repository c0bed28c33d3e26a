import type { BudgetTime, CacheOutcomeName, ProviderTime } from "./telemetry";

const ms = (value: number) => (Math.round(value * 10) / 10).toString();

/**
 * The `Server-Timing` header of a response (W3C Server Timing): time in upstream calls per provider with the number
 * of calls (summed: up to six run at once, so the sum may exceed the total), the listing cache's outcome and the
 * total; and a `budget` entry per upstream account whose request budget the request waited for (a round trip to its
 * Durable Object, or a wait for a grant). Names and figures only: never a credential, a query string or a cursor.
 * @example serverTiming(new Map([["inkit", { calls: 2, ms: 12.34 }]]), "miss", 20) // 'inkit;dur=12.3;desc="2 calls", cache;desc=miss, total;dur=20'
 */
export function serverTiming(
  providers: Map<string, ProviderTime>,
  cache: CacheOutcomeName,
  totalMs: number,
  budgets: Iterable<BudgetTime> = [],
): string {
  const parts = [...providers].map(
    ([name, t]) => `${name};dur=${ms(t.ms)};desc="${t.calls} call${t.calls === 1 ? "" : "s"}"`,
  );
  for (const b of budgets) {
    if (b.roundTrips === 0 && b.waitMs === 0) continue;
    const trips = `${b.roundTrips} round trip${b.roundTrips === 1 ? "" : "s"}`;
    parts.push(`budget;dur=${ms(b.waitMs)};desc="${b.provider} account ${b.account}: ${trips}"`);
  }
  parts.push(`cache;desc=${cache}`, `total;dur=${ms(totalMs)}`);
  return parts.join(", ");
}
