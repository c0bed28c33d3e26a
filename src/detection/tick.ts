/**
 * Change detection's schedule: every cron tick sends one message per watched source to the detection queue, and
 * each message is checked in an invocation of its own (`max_batch_size = 1`), so a tick of 100 sources never runs
 * in one invocation, and each check has Workers' per-invocation limits to itself.
 */

import { inactiveConnections } from "../connections/store";
import { analyticsOf } from "../observability/dataset";
import { budgetFields, point, type Telemetry } from "../observability/telemetry";
import { parseSourceKey } from "../schemas/sources";
import { loggerOf } from "../shared/logger";
import { withUpstreamScope } from "../upstream/scope";
import { type CheckResult, checkSource } from "./check";
import { type SourceDeps, sourceDeps } from "./sources";
import { deferCheck, deferredSources, endDeferral, forgetSourcesExcept, watchedSources } from "./store";

/** The queue the checks travel through (wrangler.toml). */
export const DETECTION_QUEUE_NAME = "tributary-detection";

/** A detection queue message: check this source now. */
export interface CheckMessage {
  source: string;
  /** Set on a check the budget put off and sent again: while it waits, the ticks send the source no other check. */
  deferred?: true;
}

/**
 * Sends one check per watched source; forgets the state of sources no longer watched (watching one again starts
 * from a new baseline), and of sources read through a deleted connection (they end). A source read through an
 * `invalid` connection gets no check, and its state waits for a working credential. Returns how many checks it sent.
 */
export async function scheduleChecks(env: Env): Promise<number> {
  const [watched, inactive, deferred] = await Promise.all([
    watchedSources(env.DB),
    inactiveConnections(env.DB),
    deferredSources(env.DB, Date.now()),
  ]);
  const statusOf = (source: string) => {
    const connection = parseSourceKey(source)?.connection;
    return connection === undefined ? undefined : inactive.get(connection);
  };
  const kept = watched.filter((source) => statusOf(source) !== "deleted");
  await forgetSourcesExcept(env.DB, kept);
  // A source whose check the budget put off already has one queued: the schedule stretches rather than piles up.
  const due = kept.filter((source) => statusOf(source) === undefined && !deferred.has(source));
  const messages = due.map((source): { body: CheckMessage } => ({ body: { source } }));
  for (let i = 0; i < messages.length; i += 100) await env.DETECTION_QUEUE.sendBatch(messages.slice(i, i + 100));
  return due.length;
}

/**
 * Checks one source with its own upstream budget. A check that left a backlog, or open rows below its segment (and
 * met no failure), sends itself again, so a burst is caught up in seconds rather than a check per tick, and every open
 * row is read again within the tick; a busy source is left to its holder. A check its account's request budget refused
 * (detection draws only what listings leave) stops where it was, having committed what it read, and sends itself again
 * for when the budget has room: delayed, never lost.
 */
async function runCheck(env: Env, deps: SourceDeps, message: CheckMessage): Promise<CheckResult> {
  const { source } = message;
  const started = performance.now();
  let telemetry: Telemetry | undefined;
  const result = await withUpstreamScope(env, { priority: "detection", waitUntil: deps.waitUntil }, (scope) => {
    telemetry = scope.telemetry;
    telemetry.route = "detection";
    return checkSource(env, deps, source);
  }).catch(
    (err): CheckResult => ({
      source,
      outcome: "error",
      created: 0,
      events: 0,
      calls: 0,
      backlog: false,
      moreOpen: false,
      watched: 0,
      error: err instanceof Error ? err.message : String(err),
    }),
  );
  const deferredMs = telemetry?.budgetTotals().deferredMs ?? 0;
  if (deferredMs > 0) {
    const delaySeconds = deferredSeconds(deferredMs);
    await deferCheck(env.DB, source, Date.now() + delaySeconds * 1000);
    await env.DETECTION_QUEUE.send({ source, deferred: true } satisfies CheckMessage, { delaySeconds });
  } else {
    if (message.deferred) await endDeferral(env.DB, source);
    if (result.outcome === "checked" && (result.backlog || result.moreOpen))
      await env.DETECTION_QUEUE.send({ source } satisfies CheckMessage);
  }
  reportCheck(env, result, telemetry, performance.now() - started);
  return result;
}

/** A deferred check's delay: when the budget said a call fits again, in whole seconds (Queues' unit), at most 5 min. */
const deferredSeconds = (ms: number) => Math.min(300, Math.max(1, Math.ceil(ms / 1000)));

/**
 * One check's figures, as one data point (kind `check`, beside its upstream calls' points) and one log line: calls
 * made, items announced, events minted, whether a backlog is left, the open items watched, and its account's budget:
 * the time its calls waited for it and, when it refused the check, how long the check is put off (`deferred_ms`).
 */
function reportCheck(env: Env, result: CheckResult, telemetry: Telemetry | undefined, durationMs: number): void {
  const provider = result.source.startsWith("8x8") ? "8x8" : "inkit";
  const budget = telemetry?.budgetTotals();
  // A check the budget refused before it read anything failed only for now: it is sent again, nothing is lost.
  const deferred = (budget?.deferredMs ?? 0) > 0;
  const failed = result.outcome === "error" && !deferred;
  telemetry?.flush(analyticsOf(env), (dropped) =>
    point({
      kind: "check",
      index: result.source,
      provider,
      listing: result.source,
      route: "detection",
      cache: "bypass",
      statusClass: result.outcome,
      errorType: failed ? "error" : deferred ? "deferred" : "",
      durationMs,
      items: result.created,
      calls: result.calls,
      events: result.events,
      backlog: result.backlog ? 1 : 0,
      watched: result.watched,
      sources: 1,
      dropped,
      ...(telemetry ? budgetFields(telemetry) : {}),
    }),
  );
  const { moreOpen, ...figures } = result;
  const fields = {
    ...figures,
    more_open: moreOpen,
    duration_ms: Math.round(durationMs),
    budget_wait_ms: Math.round(budget?.waitMs ?? 0),
    deferred,
    deferred_ms: budget?.deferredMs ?? 0,
    upstream_429s: budget?.pauses ?? 0,
    points_written: telemetry?.written ?? 0,
    points_dropped: telemetry?.dropped ?? 0,
  };
  if (failed) loggerOf(env).error("change detection failed", fields);
  else loggerOf(env).info("change detection", fields);
}

/** Reports a cron tick: the checks it sent (one per watched source), as one data point and one log line. */
export function reportTick(env: Env, figures: { sources: number; resent: number }): void {
  analyticsOf(env)?.writeDataPoint(
    point({ kind: "tick", index: "tick", route: "detection", sources: figures.sources, items: figures.resent }),
  );
  loggerOf(env).info("change detection tick", { sources: figures.sources, deliveries_resent: figures.resent });
}

/** The detection queue's consumer: every message is acknowledged; a failed check is retried by the next tick. */
export async function handleCheckBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<void> {
  const deps = sourceDeps(env, waitUntil);
  for (const message of batch.messages) {
    const body = message.body as Partial<CheckMessage> | null;
    if (typeof body?.source === "string") {
      await runCheck(env, deps, {
        source: body.source,
        ...(body.deferred === true ? { deferred: true as const } : {}),
      });
    }
    message.ack();
  }
}
