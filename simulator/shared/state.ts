import { FaultStore } from "../faults";
import { RequestCounters } from "./counters";
import type { SimulatorSettings } from "./settings";

/**
 * Everything one simulator holds: its seeded data (mutable through the admin
 * API), run-time settings, request counters and active faults. The app reads
 * `data` and `settings` on every request, so `reset()` takes effect immediately.
 */
export class SimulatorState<Data> {
  data: Data;
  settings: SimulatorSettings;
  readonly counters = new RequestCounters();
  readonly faults = new FaultStore();

  constructor(
    private readonly generate: () => Data,
    private readonly defaults: SimulatorSettings,
  ) {
    this.data = generate();
    this.settings = { ...defaults };
  }

  /** Regenerates the seeded data, restores the start-up settings, and clears faults (releasing hung requests) and counters. */
  reset(): void {
    this.data = this.generate();
    this.settings = { ...this.defaults };
    this.counters.clear();
    this.faults.clear();
  }
}
