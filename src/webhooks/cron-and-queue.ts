import { logNotReady, missingStep } from "../http/readiness";
import { loggerOf } from "../logger";
import { handleDeliveryBatch } from "./delivery";
import { detectChanges } from "./detection";
import { sourceDeps } from "./sources";
import { pruneExpired, resendOverdue } from "./sweep";

/**
 * The cron tick: change detection over every watched source, then a sweep for deliveries whose message was lost,
 * then retention.
 */
export async function onScheduled(env: Env, ctx: ExecutionContext): Promise<void> {
  // Nothing is lost by skipping a tick: snapshots are not advanced, so the next tick after the fix sees every change.
  const step = await missingStep(env, ["DB", "WEBHOOK_QUEUE"]);
  if (step !== null) return logNotReady(env, "scheduled", step);
  const results = await detectChanges(
    env,
    sourceDeps(env, (p) => ctx.waitUntil(p)),
  );
  const resent = await resendOverdue(env);
  await pruneExpired(env);
  const events = results.reduce((n, r) => n + r.events, 0);
  // Quiet when nothing happened: one line per tick that found events, a baseline, a conflict or an error.
  const notable = results.filter((r) => r.outcome !== "checked" || r.events > 0);
  if (notable.length > 0 || resent > 0) {
    loggerOf(env).info("change detection", { sources: results.length, events, resent, notable });
  }
}

/** How long a batch waits before it is retried when the deployment is not ready for it. */
export const NOT_READY_RETRY_SECONDS = 60;

/**
 * The queue consumer of webhook deliveries. When its storage is not ready, no message is acknowledged: the whole
 * batch is retried later, with one log line for it.
 */
export async function onQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const step = await missingStep(env, ["DB", "WEBHOOK_QUEUE", "WEBHOOK_DLQ"]);
  if (step !== null) {
    logNotReady(env, "queue", step, { messages: batch.messages.length, retry_in_seconds: NOT_READY_RETRY_SECONDS });
    batch.retryAll({ delaySeconds: NOT_READY_RETRY_SECONDS });
    return;
  }
  await handleDeliveryBatch(batch, env);
}
