import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { forgetCacheMemory } from "../../src/cache/request-cache";
import { forgetConnections } from "../../src/connections/resolve";
import { resetCircuitBreakers } from "../../src/upstream/circuit-breaker";
import { resetBudgets } from "./budget";
import { resetSimulators } from "./simulator";
import { dropTables, emptyNamespace, testDatabases } from "./storage";

/**
 * The state a test runtime of its own would start with: the simulators' seeded data, start-up settings, no faults
 * and zeroed counters; an empty KV namespace and never-migrated D1 databases; nothing in the isolate's memory (the
 * cache's hot entries, ready pages, caps, reads in flight and pending writes, the connections resolved, the circuit
 * breakers, the upstream accounts' leases), no upstream account's budget spent or paused; the real clock
 * and no mocks left by a file before.
 */
export async function startFresh(): Promise<void> {
  vi.useRealTimers();
  vi.restoreAllMocks();
  forgetCacheMemory();
  forgetConnections();
  resetCircuitBreakers();
  await Promise.all([resetSimulators(), resetBudgets(), emptyNamespace(env.CACHE), ...testDatabases().map(dropTables)]);
}
