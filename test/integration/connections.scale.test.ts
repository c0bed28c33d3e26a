// Detection's fan-out over many connections: each of them watching Inkit's three listings of one account under a
// credential of its own. One tick sends one check per source; a quiet check costs the same few upstream calls and D1
// queries whatever the number of connections; events reach only the tenant that owns the connection. The figures are
// logged (`[cost]`) and docs/change-detection.md#connections-at-scale works them out for 1,000 connections.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { INKIT_API_TOKENS } from "../../simulator/credentials";
import { TEST_API_KEY, TEST_API_KEY_2 } from "../setup/bindings";
import { type Connection, connectInkit, inkitToken, StreamFollower, tick } from "../support/connections";
import { countingD1 } from "../support/d1-count";
import { inkitSim, resetSimulators } from "../support/simulator";
import { callAppJson, resetWebhookStore, webhookEnv } from "../support/webhooks";

/** Connections in the test: as many as keep it well within the suite's time (the design aims at 1,000). */
const CONNECTIONS = 100;
const LISTINGS = ["runs", "workflow-batches", "batches"] as const;

beforeEach(async () => {
  await resetWebhookStore();
  await resetSimulators();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("fan-out over many connections", () => {
  it(`${CONNECTIONS} connections × 3 sources: a check per source per tick, the same cost for every quiet check, events only to the owner`, async () => {
    const db = countingD1(env.DB);
    const w = webhookEnv({ DB: db.binding });
    const owners = [TEST_API_KEY, TEST_API_KEY_2];
    // Half the connections are tenant A's, half tenant B's: every one reads the "other" Inkit account, each under a
    // credential of its own.
    const connections: { conn: Connection; auth: string; token: string }[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const auth = owners[i % 2] as string;
      const conn = await connectInkit(w, "other", `scale-${i}`, auth);
      connections.push({ conn, auth, token: inkitToken("other", `scale-${i}`) });
      const sources = LISTINGS.map((listing) => `inkit:${listing}@${conn.id}`);
      const sub = await callAppJson(w, "/v1/event-subscriptions", { method: "POST", json: { sources }, auth });
      expect(sub.res.status).toBe(201);
    }
    const sources = CONNECTIONS * LISTINGS.length;

    const sentOfTick = async (options: Parameters<typeof tick>[1] = {}) => {
      const before = w.detection.sent.length;
      const checks = await tick(w, options);
      return { checks, sent: w.detection.sent.slice(before).map((m) => m.body.source) };
    };
    const baseline = await sentOfTick();
    expect(baseline.checks).toBe(sources);

    // A quiet tick: nothing changed upstream.
    await inkitSim.clearCounters();
    let scheduled = { calls: 0, statements: 0, rowsRead: 0, rowsWritten: 0, log: [] as string[] };
    db.reset();
    const quiet = await sentOfTick({
      afterScheduled: () => {
        scheduled = { ...db.count, log: [...db.count.log] };
        db.reset();
      },
    });
    const checksD1 = { ...db.count };
    const tally = (head: string) => db.count.log.filter((l) => l === head).length;
    // One check per source, each sent once, and none sent again (no backlog).
    expect(quiet.checks).toBe(sources);
    expect(new Set(quiet.sent).size).toBe(sources);
    expect(quiet.sent.length).toBe(sources);
    // Every quiet check of every connection cost the same upstream calls, each made with its own credential.
    const calls = await inkitSim.callsByCredential();
    const perConnection = calls[connections[0]?.token as string] as number;
    expect(Object.keys(calls).sort()).toEqual(connections.map((c) => c.token).sort());
    expect(new Set(Object.values(calls))).toEqual(new Set([perConnection]));
    expect(perConnection).toBeLessThanOrEqual(3 * LISTINGS.length);
    const counters = await inkitSim.counters();
    expect(counters.total).toBe(perConnection * CONNECTIONS);
    // D1: the same round trips for every check, whatever the number of connections; besides them, a connection is
    // read (and its use recorded) once per isolate and minute, here once for its three checks.
    const perConnectionD1 = { reads: tally("SELECT * FROM"), touches: tally("UPDATE connections SET") };
    expect(perConnectionD1).toEqual({ reads: CONNECTIONS, touches: CONNECTIONS });
    const ownCalls = checksD1.calls - perConnectionD1.reads - perConnectionD1.touches;
    expect(ownCalls % sources).toBe(0);
    const perCheck = {
      calls: ownCalls / sources,
      statements: ((checksD1.statements - perConnectionD1.reads - perConnectionD1.touches) / sources).toFixed(1),
      rowsRead: Math.round(checksD1.rowsRead / sources),
      rowsWritten: Math.round(checksD1.rowsWritten / sources),
    };
    // Claim the lease, read the state, read the rows of what the scan showed, commit: one round trip each.
    expect(perCheck.calls).toBeLessThanOrEqual(4);

    // Something new in the account: each connection's sources announce it, to the connection's owner only.
    await inkitSim.insert({ kind: "run", count: 1, tenant: "other" });
    await inkitSim.insert({ kind: "workflow_batch", count: 1, tenant: "other" });
    db.reset();
    expect((await sentOfTick()).checks).toBe(sources);
    const changedD1 = { ...db.count };
    for (const auth of owners) {
      const stream = new StreamFollower(w, auth);
      await stream.follow();
      const mine = connections.filter((c) => c.auth === auth);
      const announced = (type: string) =>
        stream.events
          .filter((e) => e.type === type)
          .map((e) => e.source)
          .sort();
      expect(announced("run.created")).toEqual(mine.map((c) => `inkit:runs@${c.conn.id}`).sort());
      expect(announced("batch.created")).toEqual(mine.map((c) => `inkit:workflow-batches@${c.conn.id}`).sort());
      expect(stream.events.filter((e) => !e.type.endsWith(".created"))).toEqual([]);
    }
    // Nothing read with the account's own token, nor with any credential but the connections'.
    expect(Object.keys(await inkitSim.callsByCredential())).not.toContain(INKIT_API_TOKENS.other);

    console.log(
      `[cost] ${CONNECTIONS} connections × ${LISTINGS.length} sources, a quiet tick: ${quiet.checks} checks; upstream calls per quiet check per connection ${perConnection} (${JSON.stringify(counters.routes)} over all); D1 per check ${perCheck.calls} round trips (${perCheck.statements} statements, ~${perCheck.rowsRead} rows read, ~${perCheck.rowsWritten} written), plus per connection and isolate-minute 1 read and 1 write; a tick where two of each connection's sources announce an item: ~${Math.round(changedD1.rowsRead / sources)} rows read per check (the watchers of a source are found by a scan of every endpoint and subscription); the scheduled handler ${scheduled.calls} calls, ${scheduled.statements} statements, ${scheduled.rowsRead} rows read [${scheduled.log.join(", ")}]`,
    );
  });
});
