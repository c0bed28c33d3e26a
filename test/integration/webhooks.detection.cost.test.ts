// What one check costs in D1 and upstream calls, counted (never timed): a check of a full item budget writes its
// events, deliveries and watch rows with a fixed number of statements, whatever the number of items, in one
// transaction; a quiet check makes as few round trips as a check can.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { configOf } from "../../src/config";
import { countingD1 } from "../support/d1-count";
import { inkitSim, resetSimulators } from "../support/simulator";
import { consumeCheck, createHookEndpoint, resetWebhookStore, rows, runCron, webhookEnv } from "../support/webhooks";

const SOURCE = "inkit:runs";
const CHECK_ITEMS = configOf(env).webhookCheckItems;

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

async function watched() {
  const db = countingD1(env.DB);
  const w = webhookEnv({ DB: db.binding });
  await createHookEndpoint(w, { sources: [SOURCE] });
  await runCron(w);
  // The first check of an isolate also checks the migrations once: not part of any check's cost after that.
  await consumeCheck(w, { source: SOURCE });
  w.queue.take();
  return { w, db };
}

const lastCheck = async () =>
  (
    await rows<{ calls: number; created: number; events: number; backlog: number }>(
      "SELECT calls, created, events, backlog FROM detection_checks WHERE source = ? ORDER BY version DESC LIMIT 1",
      SOURCE,
    )
  )[0];

describe("what one check costs", () => {
  it("a full budget of new items: 4 D1 round trips, and a commit of 9 statements in one batch", async () => {
    const { w, db } = await watched();
    await inkitSim.insert({ kind: "run", count: CHECK_ITEMS, status: "In Progress" });
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    const check = await lastCheck();
    expect(check).toMatchObject({ created: CHECK_ITEMS, events: CHECK_ITEMS, backlog: 0 });
    expect(w.queue.take()).toHaveLength(CHECK_ITEMS);
    // The lease with the state; the recorded rows of what the scan showed; the watchers; the commit: the check's
    // figures and lock, its frontier, the watch rows (one statement), the closed watches past the horizon, the
    // sequence, the events (one statement), the stream's counter, the deliveries (one statement).
    expect(db.count.log).toEqual(["batch[5]", "batch[1]", "SELECT id, tenant,", "batch[9]"]);
    expect(db.count.statements).toBe(16);
    // Inkit caps its pages at 100: the new items and the page holding the frontier (see docs/change-detection.md#cpu-per-check),
    // the scan of the `updated_at` order through them to its marks, and the watched runs by id.
    expect(check?.calls).toBeLessThanOrEqual(7);
  });

  it("twice the items: two checks of the same 9-statement commit, the continuation queued at once and reading no watched items again", async () => {
    const { w, db } = await watched();
    await inkitSim.insert({ kind: "run", count: 2 * CHECK_ITEMS, status: "In Progress" });
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    expect(db.count.log.at(-1)).toBe("batch[9]");
    expect(await lastCheck()).toMatchObject({ created: CHECK_ITEMS, backlog: 1 });
    // The continuation it queued at once.
    expect(w.detection.take().map((m) => [m.body, m.delaySeconds])).toEqual([[{ source: SOURCE }, 0]]);
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    expect(await lastCheck()).toMatchObject({ created: CHECK_ITEMS, backlog: 0 });
    // It leaves the watched items to the next tick (looked up moments ago): no scan, no read of sighted rows.
    expect(db.count.log).toEqual(["batch[5]", "SELECT id, tenant,", "batch[9]"]);
  });

  it("a quiet check: 3 D1 round trips", async () => {
    const { w, db } = await watched();
    db.reset();
    await consumeCheck(w, { source: SOURCE });
    expect(await lastCheck()).toMatchObject({ created: 0, events: 0 });
    expect(db.count.log).toEqual(["batch[5]", "batch[1]", "batch[5]"]);
  });
});
