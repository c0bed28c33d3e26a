import { handleDeliveryBatch } from "./delivery";
import { detectChanges } from "./detection";
import { sourceDeps } from "./sources";
import { pruneExpired, resendOverdue } from "./sweep";

/**
 * The cron tick: change detection over every watched source, then a sweep for deliveries whose message was lost,
 * then retention.
 */
export async function onScheduled(env: Env, ctx: ExecutionContext): Promise<void> {
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
    const line = { level: "info", msg: "change detection", sources: results.length, events, resent, notable };
    console.log(JSON.stringify(line));
  }
}

/** The queue consumer of webhook deliveries. */
export async function onQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  await handleDeliveryBatch(batch, env);
}
