import { configOf } from "./config";
import { resealOlder } from "./connections/reseal";
import { resendOverdue } from "./delivery/sweep";
import { reportTick, scheduleChecks } from "./detection/tick";
import { pruneEvents } from "./events/store";
import { pruneIdempotencyKeys } from "./http/idempotency/store";
import { isoMicros } from "./shared/time";
import { logNotReady, missingStep } from "./storage/readiness";

/**
 * The cron tick: one change-detection check per watched source, sent to the detection queue, then a sweep for
 * deliveries whose message was lost, connections' credentials sealed again under the newest key, then retention.
 */
export async function onScheduled(env: Env, _ctx: ExecutionContext): Promise<void> {
  // Nothing is lost by skipping a tick: frontiers do not advance, so the next tick after the fix sees every change.
  const step = await missingStep(env, ["DB", "WEBHOOK_QUEUE", "DETECTION_QUEUE"]);
  if (step !== null) return logNotReady(env, "scheduled", step);
  const sources = await scheduleChecks(env);
  const resent = await resendOverdue(env);
  await resealOlder(env);
  await pruneExpired(env);
  reportTick(env, { sources, resent });
}

/**
 * Deletes up to `limit` expired events per tick, with their deliveries and attempts (replay cannot reach them), and up
 * to `limit` expired idempotency keys (24 hours after their first request).
 */
export async function pruneExpired(env: Env, limit = 1000): Promise<void> {
  const now = Date.now();
  await pruneEvents(env.DB, isoMicros(now - configOf(env).webhookRetentionDays * 86_400_000), limit);
  await pruneIdempotencyKeys(env.DB, isoMicros(now), limit);
}
