/** The CPU bench's figures, as the workerd bench writes them and the runner reads them. */

/** Median and p99 over a request type's batches, per invocation, in ms. */
export interface Spread {
  medianMs: number;
  p99Ms: number;
}

/** One request type, measured beside its control. */
export interface CpuRow {
  id: string;
  name: string;
  /** The worker's handler the invocation goes through. */
  handler: "fetch" | "queue" | "scheduled";
  /** What the control does for the same request (see bench/README.md). */
  control: string;
  /** Status the worker answers (every invocation is checked against it). */
  status: number;
  /** Upstream calls and items in their bodies, per invocation (answered from memory inside the isolate). */
  upstreamCalls: number;
  itemsServed: number;
  /** Items in the answer's `data`, for list pages. */
  itemsReturned: number | null;
  responseBytes: number;
  /** Invocations per batch (ours, control) and batches taken of each. */
  perBatch: number;
  controlPerBatch: number;
  batches: number;
  /** CPU of the workerd process (every thread) per invocation, bracket cost subtracted. */
  cpu: Spread;
  controlCpu: Spread;
  /** The isolate's clock per invocation (wall time: I/O waits and other processes' time on the cores included). */
  wall: Spread;
  controlWall: Spread;
  /** Median CPU over the control's median CPU. */
  ratio: number;
  /** Mean self time per stage, as a share of the sum of stages (null: not recorded). */
  stages: Record<string, number> | null;
  /** The CPU limit per invocation of the plan whose settings the request type is measured at (ms). */
  limitMs: number;
  /** Why the figure is not a production default, when it is not. */
  note?: string;
}

export interface CpuFigures {
  clock: {
    performanceNowAdvancesDuringCpu: boolean;
    busyLoopMs: number;
    method: string;
    /** CPU and wall cost of one bracket (the two /cpu reads around an empty batch), median, subtracted. */
    bracketCpuMs: number;
    bracketWallMs: number;
    /** CPU the process used in one second of the isolate waiting: background work under every figure. */
    idleCpuMsPerS: number;
    /** CPU of one grant round trip to an UpstreamBudget object, both sides (the object runs in the same process). */
    budgetGrantCpuMs: number;
    sampleTargetMs: number;
  };
  runtime: { userAgent: string; linesLogged: number };
  rows: CpuRow[];
}
