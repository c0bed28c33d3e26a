/**
 * Change detection's schedule: every cron tick sends one message per watched source to the detection queue, and
 * each message is checked in an invocation of its own (`max_batch_size = 1`), so a tick of 100 sources never runs
 * in one invocation, and each check has Workers' per-invocation limits to itself.
 */
import { loggerOf } from "../../logger";
import { withUpstreamScope } from "../../upstream/scope";
import { type SourceDeps, sourceDeps } from "../sources";
import { forgetSourcesExcept, watchedSources } from "../store";
import { type CheckResult, checkSource } from "./check";

/** The queue the checks travel through (wrangler.toml). */
export const DETECTION_QUEUE_NAME = "tributary-detection";

/** A detection queue message: check this source now. */
export interface CheckMessage {
  source: string;
}

/**
 * Sends one check per watched source; forgets the state of sources no longer watched (watching one again starts
 * from a new baseline). Returns how many checks it sent.
 */
export async function scheduleChecks(env: Env): Promise<number> {
  const watched = await watchedSources(env.DB);
  await forgetSourcesExcept(env.DB, watched);
  const messages = watched.map((source): { body: CheckMessage } => ({ body: { source } }));
  for (let i = 0; i < messages.length; i += 100) await env.DETECTION_QUEUE.sendBatch(messages.slice(i, i + 100));
  return watched.length;
}

/**
 * Checks one source with its own upstream budget. A check that left a backlog (and met no failure) sends itself
 * again, so a burst is caught up in seconds rather than a check per tick; a busy source is left to its holder.
 */
async function runCheck(env: Env, deps: SourceDeps, source: string): Promise<CheckResult> {
  const result = await withUpstreamScope(env, () => checkSource(env, deps, source)).catch(
    (err): CheckResult => ({
      source,
      outcome: "error",
      created: 0,
      events: 0,
      calls: 0,
      backlog: false,
      watched: 0,
      error: err instanceof Error ? err.message : String(err),
    }),
  );
  if (result.outcome === "checked" && result.backlog) await env.DETECTION_QUEUE.send({ source } satisfies CheckMessage);
  // Quiet when nothing happened: one line per check that found something, set a baseline, or failed.
  const notable = result.outcome !== "checked" || result.events > 0 || result.backlog;
  if (result.outcome === "error") loggerOf(env).error("change detection failed", { ...result });
  else if (notable) loggerOf(env).info("change detection", { ...result });
  return result;
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
    if (typeof body?.source === "string") await runCheck(env, deps, body.source);
    message.ack();
  }
}
