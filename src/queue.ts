import { handleDeliveryBatch } from "./delivery/deliver";
import { DETECTION_QUEUE_NAME, handleCheckBatch } from "./detection/tick";
import { logNotReady, missingStep } from "./storage/readiness";

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
    checks
      ? ["DB", "WEBHOOK_QUEUE", "DETECTION_QUEUE", "UPSTREAM_BUDGET"]
      : ["DB", "WEBHOOK_QUEUE", "WEBHOOK_DLQ", "ENDPOINT_PACER"],
  );
  if (step !== null) {
    logNotReady(env, "queue", step, { messages: batch.messages.length, retry_in_seconds: NOT_READY_RETRY_SECONDS });
    batch.retryAll({ delaySeconds: NOT_READY_RETRY_SECONDS });
    return;
  }
  if (checks) return handleCheckBatch(batch, env, (p) => ctx.waitUntil(p));
  await handleDeliveryBatch(batch, env);
}
