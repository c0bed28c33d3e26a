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
  /** The storage the invocation used, and its replay's CPU (bench/README.md, part 9, "Storage split"). */
  storage?: StorageSplit;
  /**
   * The worker's own CPU per invocation: `cpu` less the storage replay, plus D1's client side (`storage.shimCpu`),
   * batch by batch of the same round. What the guard holds against `limitMs`.
   */
  isolateCpu?: Spread;
  /** The isolate's median CPU over the control's (the guard's ratio stays `ratio`, total over control). */
  isolateRatio?: number;
}

/**
 * What one invocation asked of storage (D1, the Durable Objects), recorded through proxies around the bindings over
 * `invocationsRecorded` reference invocations (counts are means over them: an object round trip can serve several),
 * and the CPU of the bench issuing exactly those calls itself.
 */
export interface StorageSplit {
  invocationsRecorded: number;
  /** D1 statements (a batch counts each), and round trips to D1 (a batch is one). */
  d1Statements: number;
  d1RoundTrips: number;
  /** D1 round trips by how they were run: first, all, run, raw, batch. */
  d1ByVia: Record<string, number>;
  /** Durable Object calls (each a round trip), and by `BINDING.method`. */
  objectRoundTrips: number;
  objectCalls: Record<string, number>;
  /** Tables the statements write. */
  tablesWritten: string[];
  /** Each distinct statement (SQL, whitespace folded, cut at 240 characters), how it ran, per invocation. */
  statements: { via: string; sql: string; perInvocation: number }[];
  /** What puts stored state back after each replayed invocation, and its CPU per invocation (subtracted). */
  undo: string;
  undoCpuMs: number;
  /** Replays (each of every recorded invocation) per batch, and D1 client shim replays per batch. */
  replayPerBatch: number;
  shimPerBatch: number;
  /** CPU per invocation of the replay: D1's and the objects' work, both sides, in this process. */
  replayCpu: Spread;
  /**
   * CPU per invocation of D1's client alone (the same D1 calls, the runtime's D1 client on a transport answering
   * from memory): billed in production, so added back. Null when it could not be measured.
   */
  shimCpu: Spread | null;
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
