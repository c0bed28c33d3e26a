import { FaultStore } from "../faults";
import { RateLimits } from "../rate-limit";
import { RequestCounters } from "./counters";
import type { SimulatorSettings } from "./settings";

/**
 * Everything one simulator holds: its seeded data (mutable through the admin
 * API), run-time settings, request counters, active faults and revoked
 * credentials. The app reads `data`, `settings` and `revoked` on every request,
 * so `reset()` takes effect immediately.
 */
export class SimulatorState<Data> {
  data: Data;
  settings: SimulatorSettings;
  readonly counters = new RequestCounters();
  readonly faults = new FaultStore();
  /** Per-credential rate limits (`POST /__admin/rate-limit`). */
  readonly rateLimits = new RateLimits();
  /** Exact credential strings the emulated routes answer 401, as for an unknown one (`~tag` siblings stay valid). */
  readonly revoked = new Set<string>();
  /** Whether `data` may differ from what `generate` gives: an admin write touched it since it was generated. */
  #changed = false;
  #revision = 0;

  constructor(
    private readonly generate: () => Data,
    private readonly defaults: SimulatorSettings,
  ) {
    this.data = generate();
    this.settings = { ...defaults };
  }

  /**
   * Marks the data as changed, so the next reset regenerates it and views derived from it (sorted listings) are
   * rebuilt. Every admin write but the shared ones calls it, before and after it writes.
   */
  changed(): void {
    this.#changed = true;
    this.#revision += 1;
  }

  /** Moves on every change of `data`: a view derived from the data at one revision holds until the next. */
  get revision(): number {
    return this.#revision;
  }

  /**
   * Restores the seeded data (regenerated only if it changed: generation is deterministic, and costs a few hundred
   * ms that suites resetting before every test would pay thousands of times), restores the start-up settings, and
   * clears faults (releasing hung requests), rate limits, counters and revocations.
   */
  reset(): void {
    if (this.#changed) {
      this.data = this.generate();
      this.#revision += 1;
    }
    this.#changed = false;
    this.settings = { ...this.defaults };
    this.counters.clear();
    this.faults.clear();
    this.rateLimits.clear();
    this.revoked.clear();
  }
}
