// The integration runtimes' simulators, one pair leased to each test runtime for as long as it lives, so that files
// run side by side without sharing request counters, faults, settings or data. The global setup (simulators.ts)
// owns the pairs; vitest.config.ts leases one whenever it starts a runtime, and hands the runtime that pair's URLs as
// its upstreams. Both run in the main vitest process, which is where the pool is kept.

/** One simulator pair, the runtime's own until `release()`. */
export interface SimulatorLease {
  inkitUrl: string;
  eightByEightUrl: string;
  release(): void;
}

export interface SimulatorPool {
  /** A free pair reset to its start-up state (seeded data, settings, no faults, zeroed counters). */
  lease(): Promise<SimulatorLease>;
}

const POOL = Symbol.for("tributary.test.simulator-pool");
type Holder = { [POOL]?: SimulatorPool };

export function registerSimulatorPool(pool: SimulatorPool | undefined): void {
  (globalThis as Holder)[POOL] = pool;
}

/** Leases a pair from the pool the global setup registered; fails if it did not run. */
export function leaseSimulators(): Promise<SimulatorLease> {
  const pool = (globalThis as Holder)[POOL];
  if (pool === undefined) throw new Error("no simulator pool: test/setup/simulators.ts must run as a global setup");
  return pool.lease();
}
