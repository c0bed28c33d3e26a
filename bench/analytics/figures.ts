/** One page measured with and without the Analytics Engine binding, as the workerd bench writes it. */
export interface AnalyticsScenario {
  name: string;
  path: string;
  /** Data points one request of it writes (counted with a recording dataset). */
  pointsPerRequest: number;
  /** Upstream calls one request of it makes (Server-Timing). */
  upstreamCallsPerRequest: number;
  rounds: number;
  /** Requests per timed sample (one arm's batch in a round). */
  requestsPerSample: number;
  withBinding: { medianMs: number; p90Ms: number };
  withoutBinding: { medianMs: number; p90Ms: number };
  /** Median with the binding / median without: 1.00 means writing costs nothing measurable. */
  ratioMedian: number;
  ratioP90: number;
}

export interface AnalyticsFigures {
  method: string;
  scenarios: AnalyticsScenario[];
  /** 250 data points (the per-invocation limit) written through the binding, per point. */
  perPointUs: number;
}
