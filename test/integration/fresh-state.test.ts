import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { startFresh } from "../support/fresh-state";
import { inkitSim } from "../support/simulator";
import { dropTables, migrateAfresh, testDatabases } from "../support/storage";
import { resetWebhookStore } from "../support/webhooks";
import { callJson } from "../support/worker";

// Files share a runtime (test/setup/fresh-file.ts): what one leaves behind must not reach the next.

const tables = async (db: D1Database) =>
  (
    await db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      )
      .all()
  ).results;

const { TEST_MIGRATIONS: migrations, TEST_UPGRADE_DB: scratch } = env as unknown as {
  TEST_MIGRATIONS: D1Migration[];
  TEST_UPGRADE_DB: D1Database;
};

/**
 * What a database holds: each table, view and index with the SQL that made it, and every table's rows (the migration
 * record by name and number, not by when it was applied).
 */
async function contents(db: D1Database) {
  const { results: schema } = await db
    .prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY type, name",
    )
    .all<{ type: string; name: string; sql: string | null }>();
  const rows: Record<string, string[]> = {};
  for (const { type, name } of schema) {
    if (type !== "table") continue;
    const columns = name === "d1_migrations" ? "id, name" : "*";
    const { results } = await db.prepare(`SELECT ${columns} FROM "${name}"`).all();
    rows[name] = results.map((r) => JSON.stringify(r)).sort();
  }
  return { schema, rows };
}

/** What the migrations leave on an empty database, applied as applyD1Migrations applies them. */
async function migratedFromNothing(list: D1Migration[]) {
  await dropTables(scratch);
  await applyD1Migrations(scratch, list);
  return contents(scratch);
}

describe("startFresh: what a file leaves behind, the next does not see", () => {
  it("data, faults, counters and revoked credentials, the listing cache, the breakers, the databases, a fake clock and mocks", async () => {
    const startUp = await inkitSim.getSettings();
    // A cached page: the next identical request is answered from memory, without an upstream call.
    const first = await callJson<{ data: { id: string }[] }>("/v1/inkit/runs?limit=3");
    await inkitSim.clearCounters();
    expect((await callJson("/v1/inkit/runs?limit=3")).res.status).toBe(200);
    expect((await inkitSim.counters()).total).toBe(0);
    // Upstream trouble until the breaker opens (CIRCUIT_BREAKER_THRESHOLD failed requests): then it answers without
    // calling.
    await inkitSim.fault({ status: 500 });
    for (let i = 0; i < Number(env.CIRCUIT_BREAKER_THRESHOLD); i++)
      await callJson("/v1/inkit/runs?limit=3", { headers: { "Cache-Control": "no-cache" } });
    const calls = (await inkitSim.counters()).total;
    const open = await callJson<{ type: string }>("/v1/inkit/runs?limit=3", {
      headers: { "Cache-Control": "no-cache" },
    });
    expect(open.body.type).toMatch(/upstream-unavailable$/);
    expect((await inkitSim.counters()).total).toBe(calls);
    // Data, settings, stored rows, migrated databases, a frozen clock.
    await inkitSim.insert({ kind: "run", count: 5 });
    await inkitSim.settings({ tie_order: startUp.tie_order === "window" ? "hidden" : "window", page_size_cap: 7 });
    // The worker's own token, revoked: every upstream call would answer 401.
    await inkitSim.revoke(env.INKIT_API_TOKEN);
    await resetWebhookStore();
    for (const db of testDatabases()) await db.prepare("CREATE TABLE IF NOT EXISTS left_behind (x)").run();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
    vi.spyOn(crypto, "randomUUID").mockReturnValue("00000000-0000-4000-8000-000000000000");

    await startFresh();

    expect(Date.now()).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expect(vi.isMockFunction(crypto.randomUUID)).toBe(false);
    expect((await env.CACHE.list()).keys).toEqual([]);
    for (const db of testDatabases()) expect(await tables(db)).toEqual([]);
    expect(await inkitSim.getSettings()).toEqual(startUp);
    expect((await inkitSim.faults()).faults).toEqual([]);
    expect((await inkitSim.counters()).total).toBe(0);
    expect(await inkitSim.revoked()).toEqual([]);
    // The breaker is closed and the cache forgotten: the same request goes upstream and finds the seeded data.
    const again = await callJson<{ data: { id: string }[] }>("/v1/inkit/runs?limit=3");
    expect(again.res.status).toBe(200);
    expect(again.body.data).toEqual(first.body.data);
    expect((await inkitSim.counters()).total).toBeGreaterThan(0);
  });
});

describe("resetWebhookStore: what a test leaves behind, the next does not see", () => {
  it("leaves the worker's database as the migrations leave an empty one: the seeded counter back, nothing else", async () => {
    const fresh = await migratedFromNothing(migrations);
    // Migration 0004 seeds the stream's counter: a reset that only emptied the tables would lose it.
    expect(fresh.rows.event_stream).toEqual([JSON.stringify({ id: 1, last: 0, pruned: 0 })]);

    // Never migrated, as startFresh leaves it.
    await dropTables(env.DB);
    await resetWebhookStore();
    expect(await contents(env.DB)).toEqual(fresh);

    // Rows, the counter moved on, a column, a table, an index and a view no migration made, and a migration the record
    // says was applied.
    await env.DB.batch(
      [
        "UPDATE event_stream SET last = 41, pruned = 7",
        "INSERT INTO event_sequences (source, sequence) VALUES ('inkit:runs', 9)",
        "INSERT INTO feeds (id, tenant, sources, created_at) VALUES ('feed_x', 't', '[]', '2026-01-01T00:00:00.000000Z')",
        "ALTER TABLE feeds ADD COLUMN left_behind TEXT",
        "CREATE TABLE left_behind (x)",
        "INSERT INTO left_behind (x) VALUES (1)",
        "CREATE INDEX left_behind_by_x ON left_behind (x)",
        "CREATE VIEW left_behind_feeds AS SELECT id FROM feeds",
        "INSERT INTO d1_migrations (name) VALUES ('9999_left_behind.sql')",
      ].map((sql) => env.DB.prepare(sql)),
    );
    expect(await contents(env.DB)).not.toEqual(fresh);

    await resetWebhookStore();

    // Gone, not emptied: a database the migrations made has no such table, and a table a later migration might
    // create under that name must not find one there.
    const after = await contents(env.DB);
    expect(after.schema.map((o) => o.name)).not.toContain("left_behind");
    expect(after).toEqual(fresh);
  });

  it("a table a later migration adds is reset with the others, to the rows that migration seeds, though no list names it", async () => {
    const later: D1Migration[] = [
      ...migrations,
      {
        name: "9999_later.sql",
        queries: [
          "CREATE TABLE later (id INTEGER PRIMARY KEY, note TEXT NOT NULL)",
          "INSERT INTO later (id, note) VALUES (1, 'seeded')",
        ],
      },
    ];
    const fresh = await migratedFromNothing(later);
    await scratch.batch([
      scratch.prepare("UPDATE later SET note = 'changed' WHERE id = 1"),
      scratch.prepare("INSERT INTO later (id, note) VALUES (2, 'left behind')"),
    ]);

    await migrateAfresh(scratch, later);

    expect((await scratch.prepare("SELECT id, note FROM later").all()).results).toEqual([{ id: 1, note: "seeded" }]);
    expect(await contents(scratch)).toEqual(fresh);
  });
});
