/**
 * A recording Analytics Engine dataset. Miniflare's binding (declared in wrangler.toml, so every test worker has it)
 * accepts points and keeps none, so tests that read what was written inject this double in its place.
 */
export function recordingDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  return {
    points,
    binding: { writeDataPoint: (p?: AnalyticsEngineDataPoint) => void (p && points.push(p)) } as AnalyticsEngineDataset,
    /** Every point so far in the shared layout (docs/observability.md), then forgets them. */
    take: () => points.splice(0).map(decodePoint),
  };
}

/** A point read back by its columns' names (docs/observability.md, "Layout"). */
export function decodePoint(p: AnalyticsEngineDataPoint) {
  const b = (p.blobs ?? []) as string[];
  const d = (p.doubles ?? []) as number[];
  return {
    index: (p.indexes ?? [])[0] as string,
    kind: b[0],
    provider: b[1],
    listing: b[2],
    route: b[3],
    cache: b[4],
    statusClass: b[5],
    errorType: b[6],
    address: b[7],
    durationMs: d[0] as number,
    status: d[1],
    attempt: d[2],
    items: d[3] as number,
    cap: d[4],
    calls: d[5],
    events: d[6],
    backlog: d[7],
    watched: d[8],
    sources: d[9],
    dropped: d[10],
  };
}

export type DecodedPoint = ReturnType<typeof decodePoint>;

/** A point's upstream-account budget columns (docs/observability.md, "Layout"): blob9, double12 to double16. */
export function decodeBudget(p: AnalyticsEngineDataPoint) {
  const b = (p.blobs ?? []) as string[];
  const d = (p.doubles ?? []) as number[];
  return {
    account: b[8],
    budgetWaitMs: d[11] as number,
    budgetRoundTrips: d[12] as number,
    pauses: d[13] as number,
    budgetRefused: d[14] as number,
    deferredMs: d[15] as number,
  };
}
