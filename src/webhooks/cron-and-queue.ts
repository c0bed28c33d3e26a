import { logNotReady, missingStep } from "../http/readiness";
import { handleDeliveryBatch } from "./delivery";
import { DETECTION_QUEUE_NAME, handleCheckBatch, reportTick, scheduleChecks } from "./detection/tick";
import { pruneExpired, resendOverdue } from "./sweep";

/**
 * The cron tick: one change-detection check per watched source, sent to the detection queue, then a sweep for
 * deliveries whose message was lost, then retention.
 */
export async function onScheduled(env: Env, _ctx: ExecutionContext): Promise<void> {
  // Nothing is lost by skipping a tick: frontiers do not advance, so the next tick after the fix sees every change.
  const step = await missingStep(env, ["DB", "WEBHOOK_QUEUE", "DETECTION_QUEUE"]);
  if (step !== null) return logNotReady(env, "scheduled", step);
  const sources = await scheduleChecks(env);
  const resent = await resendOverdue(env);
  await pruneExpired(env);
  reportTick(env, { sources, resent });
}

/** How long a batch waits before it is retried when the deployment is not ready for it. */
const NOT_READY_RETRY_SECONDS = 60;

/**
 * The queue consumers: change-detection checks and webhook deliveries. When their storage is not ready, no message
 * is acknowledged: the whole batch is retried later, with one log line for it.
 */
export async function onQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const checks = batch.queue === DETECTION_QUEUE_NAME;
  const step = await missingStep(
    env,
    checks ? ["DB", "WEBHOOK_QUEUE", "DETECTION_QUEUE"] : ["DB", "WEBHOOK_QUEUE", "WEBHOOK_DLQ"],
  );
  if (step !== null) {
    logNotReady(env, "queue", step, { messages: batch.messages.length, retry_in_seconds: NOT_READY_RETRY_SECONDS });
    batch.retryAll({ delaySeconds: NOT_READY_RETRY_SECONDS });
    return;
  }
  if (checks) return handleCheckBatch(batch, env, (p) => ctx.waitUntil(p));
  await handleDeliveryBatch(batch, env);
}
