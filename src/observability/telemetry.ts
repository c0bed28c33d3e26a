import { AsyncLocalStorage } from "node:async_hooks";

/** How the listing cache served a read, or a request: `none` when it read nothing through the cache. */
export type CacheOutcomeName = "hit" | "stale" | "miss" | "bypass" | "none";

/** What one upstream call (one attempt) is for: set around a cache read's load, so the upstream client need not know. */
interface CallContext {
  /** The cache resource of the listing, e.g. `inkit:runs` or `8x8:<account_id>/<definition_id>`. */
  listing: string;
  /** How the cache read that made the call went: `miss`, `bypass` (refresh or cache off) or `stale` (background). */
  cache: CacheOutcomeName;
}

/** One upstream attempt, as written to Analytics Engine (see `callPoint`); mutable until the invocation flushes. */
export interface UpstreamCall {
  provider: string;
  listing: string;
  cache: CacheOutcomeName;
  /** The upstream's host (OpenTelemetry `server.address`). */
  address: string;
  /** The HTTP status, 0 when no response came (timeout, network error). */
  status: number;
  /** OpenTelemetry `error.type`: the status code of an HTTP error, `timeout`, `network`, `invalid_response`; "" on success. */
  errorType: string;
  durationMs: number;
  attempt: number;
  /** Items in the response's list (1 for a single item), 0 when it had none or failed. */
  items: number;
  /** A silent page-size cap the walk learned from this call; 0 for none. */
  cap: number;
  /** The upstream account whose budget the call drew from ("" when none did). */
  account: string;
  /** Time this attempt waited for its account's budget before it went. */
  budgetWaitMs: number;
}

/** Per provider: upstream attempts and the time spent in them. */
export interface ProviderTime {
  calls: number;
  ms: number;
}

/** One upstream account's budget as one invocation met it (src/upstream/budget.ts fills it in). */
export interface BudgetTime {
  provider: string;
  /** `configured`, a connection's id, or `caller:<hash prefix>`: never a credential. */
  account: string;
  /** Tokens drawn: one per upstream attempt. */
  draws: number;
  /** Grants asked of the account's object, in the background or not. */
  grants: number;
  /** Grants the invocation waited for: its round trips to the object. */
  roundTrips: number;
  /** Time the invocation's calls spent waiting for the budget (round trips and waits for a grant). */
  waitMs: number;
  /** Listings refused: answered 503 `upstream-budget-exhausted`. */
  refused: number;
  /** Detection: how long the check is put off because the budget refused it (0 when it was not). */
  deferredMs: number;
  /** Upstream 429s that paused the account. */
  pauses: number;
}

/** Analytics Engine's limit per invocation (≤ 250 data points): more are dropped and counted, never thrown. */
export const MAX_POINTS = 250;

const callContext = new AsyncLocalStorage<CallContext>();

/** Runs `load` (one cache read's upstream work) with what its upstream calls are for. */
export function withCallContext<T>(context: CallContext, load: () => Promise<T>): Promise<T> {
  return callContext.run(context, load);
}

/** The status class of an upstream answer: `2xx` … `5xx`, or `none` when no response came. */
export const statusClass = (status: number): string => (status >= 100 ? `${Math.floor(status / 100)}xx` : "none");

/**
 * What one invocation (a request, a detection check) did upstream: every attempt, the time per provider, and the data
 * points it writes to Analytics Engine (at most `MAX_POINTS`, the last kept for the invocation's own summary).
 * Points are held until `flush`, so a cap learned after its call still lands on it; later ones are written at once.
 */
export class Telemetry {
  readonly calls: UpstreamCall[] = [];
  /** The route (or `detection`) the calls are made for. */
  route = "";
  written = 0;
  dropped = 0;
  /** Per upstream account (`provider account`): its budget's draws, waits, refusals and pauses. */
  readonly budgets = new Map<string, BudgetTime>();
  private dataset: AnalyticsEngineDataset | undefined;
  private flushed = false;

  /** The budget figures of one account, started at zero. */
  budgetOf(provider: string, account: string): BudgetTime {
    const key = `${provider} ${account}`;
    let figures = this.budgets.get(key);
    if (!figures) {
      figures = {
        provider,
        account,
        draws: 0,
        grants: 0,
        roundTrips: 0,
        waitMs: 0,
        refused: 0,
        deferredMs: 0,
        pauses: 0,
      };
      this.budgets.set(key, figures);
    }
    return figures;
  }

  /** The budgets' figures summed over accounts, for the invocation's own point and log line. */
  budgetTotals(): Omit<BudgetTime, "provider" | "account"> {
    const total = { draws: 0, grants: 0, roundTrips: 0, waitMs: 0, refused: 0, deferredMs: 0, pauses: 0 };
    for (const b of this.budgets.values()) {
      total.draws += b.draws;
      total.grants += b.grants;
      total.roundTrips += b.roundTrips;
      total.waitMs += b.waitMs;
      total.refused += b.refused;
      total.deferredMs = Math.max(total.deferredMs, b.deferredMs);
      total.pauses += b.pauses;
    }
    return total;
  }

  /** Records one attempt; the returned call may still be completed (items served, error type) until the flush. */
  record(
    call: Omit<UpstreamCall, "listing" | "cache" | "items" | "cap" | "account" | "budgetWaitMs"> &
      Partial<Pick<UpstreamCall, "account" | "budgetWaitMs">>,
  ): UpstreamCall {
    const context = callContext.getStore();
    const full: UpstreamCall = {
      account: "",
      budgetWaitMs: 0,
      ...call,
      listing: context?.listing ?? "",
      cache: context?.cache ?? "none",
      items: 0,
      cap: 0,
    };
    this.calls.push(full);
    if (this.flushed) this.write([callPoint(full, this.route)], 0);
    return full;
  }

  /** Puts a learned cap on the latest call of that listing. */
  learnedCap(listing: string, cap: number): void {
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const call = this.calls[i] as UpstreamCall;
      if (call.listing === listing) {
        call.cap = cap;
        return;
      }
    }
  }

  /** Attempts and time spent per provider, in the order first called. */
  byProvider(): Map<string, ProviderTime> {
    const out = new Map<string, ProviderTime>();
    for (const call of this.calls) {
      const known = out.get(call.provider) ?? { calls: 0, ms: 0 };
      known.calls += 1;
      known.ms += call.durationMs;
      out.set(call.provider, known);
    }
    return out;
  }

  /**
   * Writes every call's point, then `summary` (the request's or the check's own), within the per-invocation limit.
   * Without a dataset nothing is written. Calls recorded later (a background refresh) are written as they come.
   */
  flush(dataset: AnalyticsEngineDataset | undefined, summary: (dropped: number) => AnalyticsEngineDataPoint): void {
    this.dataset = dataset;
    this.flushed = true;
    this.write(
      this.calls.map((call) => callPoint(call, this.route)),
      1,
    );
    this.write([summary(this.dropped)], 0);
  }

  /** Writes points while the invocation has room, keeping `reserve` places; the rest are counted as dropped. */
  private write(points: AnalyticsEngineDataPoint[], reserve: number): void {
    if (!this.dataset) return;
    for (const point of points) {
      if (this.written >= MAX_POINTS - reserve) {
        this.dropped += 1;
        continue;
      }
      this.written += 1;
      try {
        this.dataset.writeDataPoint(point);
      } catch {
        this.dropped += 1;
      }
    }
  }
}

/**
 * The layout every point shares (docs/observability.md): blob1 kind, blob2 provider, blob3 listing or source,
 * blob4 route, blob5 cache outcome, blob6 status class, blob7 error type, blob8 server address; double1 duration (ms),
 * double2 status code, double3 attempt, double4 items, double5 learned cap, double6 upstream calls, double7 events,
 * double8 backlog, double9 open items watched, double10 sources, double11 points dropped; and the upstream accounts'
 * budgets: blob9 account, double12 budget wait (ms), double13 budget round trips waited for, double14 upstream 429s
 * that paused an account, double15 listings refused by a budget, double16 detection's deferral (ms).
 */
interface PointFields {
  kind: "upstream" | "request" | "check" | "tick";
  index: string;
  provider?: string;
  listing?: string;
  route?: string;
  cache?: string;
  statusClass?: string;
  errorType?: string;
  address?: string;
  durationMs?: number;
  status?: number;
  attempt?: number;
  items?: number;
  cap?: number;
  calls?: number;
  events?: number;
  backlog?: number;
  watched?: number;
  sources?: number;
  dropped?: number;
  account?: string;
  budgetWaitMs?: number;
  budgetRoundTrips?: number;
  pauses?: number;
  budgetRefused?: number;
  deferredMs?: number;
}

/** The budget fields of an invocation's own point: its budgets' figures summed, and the account when it used one. */
export function budgetFields(telemetry: Telemetry): Partial<PointFields> {
  const totals = telemetry.budgetTotals();
  const accounts = [...telemetry.budgets.values()];
  return {
    account: accounts.length === 1 ? (accounts[0] as BudgetTime).account : accounts.length > 1 ? "several" : "",
    budgetWaitMs: totals.waitMs,
    budgetRoundTrips: totals.roundTrips,
    pauses: totals.pauses,
    budgetRefused: totals.refused,
    deferredMs: totals.deferredMs,
  };
}

/** One data point in the shared layout; Analytics Engine's index (its sampling key) is `index`. */
export function point(f: PointFields): AnalyticsEngineDataPoint {
  return {
    indexes: [f.index.slice(0, 96)],
    blobs: [
      f.kind,
      f.provider ?? "",
      f.listing ?? "",
      f.route ?? "",
      f.cache ?? "",
      f.statusClass ?? "",
      f.errorType ?? "",
      f.address ?? "",
      f.account ?? "",
    ],
    doubles: [
      f.durationMs ?? 0,
      f.status ?? 0,
      f.attempt ?? 0,
      f.items ?? 0,
      f.cap ?? 0,
      f.calls ?? 0,
      f.events ?? 0,
      f.backlog ?? 0,
      f.watched ?? 0,
      f.sources ?? 0,
      f.dropped ?? 0,
      f.budgetWaitMs ?? 0,
      f.budgetRoundTrips ?? 0,
      f.pauses ?? 0,
      f.budgetRefused ?? 0,
      f.deferredMs ?? 0,
    ],
  };
}

/** An upstream call's point (OpenTelemetry `http.client.request.duration`, in ms), indexed by provider. */
function callPoint(call: UpstreamCall, route: string): AnalyticsEngineDataPoint {
  return point({
    kind: "upstream",
    index: call.provider,
    provider: call.provider,
    listing: call.listing,
    route,
    cache: call.cache,
    statusClass: statusClass(call.status),
    errorType: call.errorType,
    address: call.address,
    durationMs: call.durationMs,
    status: call.status,
    attempt: call.attempt,
    items: call.items,
    cap: call.cap,
    calls: 1,
    account: call.account,
    budgetWaitMs: call.budgetWaitMs,
    pauses: call.status === 429 && call.account !== "" ? 1 : 0,
  });
}
