import { loggerOf } from "../shared/logger";

const MISSING =
  'The Analytics Engine binding `ANALYTICS` is missing: no data points are written (Server-Timing and the log lines still are). Add an `[[analytics_engine_datasets]]` entry with `binding = "ANALYTICS"` to wrangler.toml (see docs/observability.md).';

// Environments already told: a deployment's env lives as long as its isolate, so this is once per isolate.
const warned = new WeakSet<object>();

/**
 * The optional Analytics Engine dataset; without it nothing is written, and one `warn` line per isolate says so.
 * @example analyticsOf(env)?.writeDataPoint(point)
 */
export function analyticsOf(env: Env): AnalyticsEngineDataset | undefined {
  const dataset = (env as Partial<Env>).ANALYTICS;
  if (!dataset && !warned.has(env)) {
    warned.add(env);
    loggerOf(env).warn("deployment incomplete", { detail: MISSING });
  }
  return dataset;
}
