/** Who is told about events: webhook endpoints (`delivers` 1) and poll-only subscriptions (`delivers` 0). */

import type { NewDelivery } from "./record";
import type { EventRow } from "./store";
import { subscribes } from "./subscribes";

export interface Watcher {
  id: string;
  tenant: string;
  event_types: string | null;
  enabled: number;
  /** 0 for a poll-only subscription: its events are recorded, nothing is delivered. Absent means 1. */
  delivers?: number;
}

/**
 * Every endpoint (enabled or not) and poll-only subscription of one tenant: who hears of its connections, whatever
 * sources they watch.
 */
export async function tenantWatchers(db: D1Database, tenant: string): Promise<Watcher[]> {
  const { results } = await db
    .prepare(
      `SELECT id, tenant, event_types, enabled, 1 AS delivers FROM webhook_endpoints WHERE tenant = ?1
       UNION ALL SELECT id, tenant, event_types, 1 AS enabled, 0 AS delivers FROM event_subscriptions WHERE tenant = ?1
       ORDER BY id`,
    )
    .bind(tenant)
    .all<Watcher>();
  return results;
}

/** Whether any of the watchers subscribes to an event of this type: one of them keeps it in the log. */
export const anyoneSubscribes = (watchers: Watcher[], type: string) => watchers.some((w) => subscribes(w, type));

/** The deliveries an event owes: one per enabled endpoint that subscribes to its type. */
export function deliveriesOf(event: EventRow, watchers: Watcher[]): NewDelivery[] {
  return watchers
    .filter((w) => w.enabled === 1 && w.delivers !== 0 && subscribes(w, event.type))
    .map((w) => ({ event_id: event.id, endpoint_id: w.id, tenant: event.tenant }));
}
