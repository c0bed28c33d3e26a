import type { CacheOutcomeName, ProviderTime } from "./telemetry";

const ms = (value: number) => (Math.round(value * 10) / 10).toString();

/**
 * The `Server-Timing` header of a response (W3C Server Timing): time in upstream calls per provider with the number
 * of calls (summed: up to six run at once, so the sum may exceed the total), the listing cache's outcome and the
 * total. Names and figures only: never a credential, a query string or a cursor.
 * @example serverTiming(new Map([["inkit", { calls: 2, ms: 12.34 }]]), "miss", 20) // 'inkit;dur=12.3;desc="2 calls", cache;desc=miss, total;dur=20'
 */
export function serverTiming(providers: Map<string, ProviderTime>, cache: CacheOutcomeName, totalMs: number): string {
  const parts = [...providers].map(
    ([name, t]) => `${name};dur=${ms(t.ms)};desc="${t.calls} call${t.calls === 1 ? "" : "s"}"`,
  );
  parts.push(`cache;desc=${cache}`, `total;dur=${ms(totalMs)}`);
  return parts.join(", ");
}
