/** The detection bench's figures, as the workerd bench writes them and the runner reads them. */

/** One cron tick of change detection for one source: the checks it ran and what they cost. */
export interface TickFigures {
  /** Detection queue messages the tick handed to the consumer (the cron's, and the continuations they sent). */
  checks: number;
  /** Checks that committed (a `detection_checks` row): a busy or failed check writes none. */
  committed: number;
  /** Sum of `detection_checks.calls` over the tick's checks: upstream calls, retries included. */
  calls: number;
  /** The same, as the source's simulator counted them (`/__admin/counters`, cleared before the tick). */
  simulatorCalls: number;
  /**
   * Upstream requests the worker made during the tick, by kind: `creation order` (the walk of new items, the
   * baseline's head), `updated_at scan` and `by id` (Inkit's open-item lookups), `status lists` and `time windows`
   * (8x8's open-item lookups; a time window also reads a tie group of the walk).
   */
  callsByKind: Record<string, number>;
  /** Calls the other simulator counted during the tick (0: no other source was read). */
  otherSimulatorCalls: number;
  /** Requests per simulator route, and list items served (the source's simulator). */
  simulatorRoutes: Record<string, number>;
  itemsFetched: number;
  /** The most calls one check made. */
  maxCheckCalls: number;
  /** `created` and `events` summed over the tick's checks. */
  created: number;
  events: number;
  /** Open items watched after the tick's last check. */
  watched: number;
  /** The tick's last check left a backlog for the next tick. */
  backlogLeft: boolean;
  /** `calls` per check, in order. */
  callsPerCheck: number[];
}

export interface SourceFigures {
  name: string;
  source: string;
  provider: "inkit" | "8x8";
  /** The first tick: the baseline (no events). */
  baseline: TickFigures;
  /** The tick right after the baseline: nothing changed upstream. */
  quiet: TickFigures;
  /** 1,000 new open items inserted, then a tick. */
  burst: TickFigures & { inserted: number; callsPer100Announced: number };
  /** 5,000 terminal items inserted on top of those 1,000 open ones, then a tick (announcing them). */
  bury: TickFigures & { inserted: number };
  /** The tick after: nothing changed, 1,000 open items watched at depth 5,000. */
  quietAtDepth: TickFigures;
  /** All 1,000 buried open items completed upstream, then a tick. */
  completion: TickFigures & {
    completed: number;
    /** Distinct buried items with a `run.completed` event recorded by this tick. */
    completedReported: number;
    allReportedInTick: boolean;
  };
  /** One more tick: completions reported late would show here. */
  afterCompletion: TickFigures & { completedReported: number };
  /** The most calls one check of this source made, over every tick above. */
  maxCheckCalls: number;
  checkCallsExceeded: boolean;
}

export interface DetectionFigures {
  config: {
    /** WEBHOOK_CHECK_CALLS and WEBHOOK_CHECK_ITEMS as the worker read them. */
    webhookCheckCalls: number;
    webhookCheckItems: number;
    /** The Inkit simulator's silent page-size cap (its default). */
    inkitPageSizeCap: number | null;
  };
  sources: SourceFigures[];
  /**
   * Every tick's summed `calls` equalled its simulator's count and the requests seen by kind, and no other simulator
   * was called.
   */
  crossCheck: { ticks: number; mismatches: string[]; match: boolean };
}
