import { FaultStore } from "../faults";
import { RequestCounters } from "./counters";

/**
 * Everything one simulator holds: its seeded data (mutable through the admin
 * API), request counters and active faults. The app reads `data` on every
 * request, so `reset()` takes effect immediately.
 */
export class SimulatorState<Data> {
  data: Data;
  readonly counters = new RequestCounters();
  readonly faults = new FaultStore();

  constructor(private readonly generate: () => Data) {
    this.data = generate();
  }

  /** Regenerates the seeded data and clears faults (releasing hung requests) and counters. */
  reset(): void {
    this.data = this.generate();
    this.counters.clear();
    this.faults.clear();
  }
}
