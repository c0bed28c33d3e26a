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
}

/** Per provider: upstream attempts and the time spent in them. */
export interface ProviderTime {
  calls: number;
  ms: number;
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
  private dataset: AnalyticsEngineDataset | undefined;
  private flushed = false;

  /** Records one attempt; the returned call may still be completed (items served, error type) until the flush. */
  record(call: Omit<UpstreamCall, "listing" | "cache" | "items" | "cap">): UpstreamCall {
    const context = callContext.getStore();
    const full: UpstreamCall = {
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
 * double8 backlog, double9 open items watched, double10 sources, double11 points dropped.
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
  });
}
