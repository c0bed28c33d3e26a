import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";

/** The test runtime's D1 databases: the worker's own, one never migrated, one a test migrates step by step. */
export const testDatabases = () => {
  const bindings = env as unknown as Record<string, D1Database>;
  return [bindings.DB, bindings.TEST_BARE_DB, bindings.TEST_UPGRADE_DB] as D1Database[];
};

/** Where `wrangler d1 migrations apply` and applyD1Migrations record the migrations applied. */
const MIGRATIONS_TABLE = "d1_migrations";

interface SchemaObject {
  type: "table" | "view";
  name: string;
}

/**
 * A database's tables and views as the database itself lists them (SQLite's and D1's own left out), newest first: so
 * none is dropped before one whose foreign key points at it.
 */
async function schemaObjects(db: D1Database): Promise<SchemaObject[]> {
  const { results } = await db
    .prepare(
      "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY rowid DESC",
    )
    .all<SchemaObject>();
  return results;
}

const dropStatement = (db: D1Database, { type, name }: SchemaObject) =>
  db.prepare(`DROP ${type === "view" ? "VIEW" : "TABLE"} "${name}"`);

/** Drops every table and view of a database, newest first, in one batch: a never-migrated database. */
export async function dropTables(db: D1Database): Promise<void> {
  const objects = await schemaObjects(db);
  if (objects.length > 0) await db.batch(objects.map((o) => dropStatement(db, o)));
}

/**
 * Leaves a database exactly as these migrations leave an empty one. The tables are the ones the database has, not a
 * list: a table a later migration adds is reset with the others, and one nothing created is dropped. Every one is
 * dropped (newest first) and every migration runs again, so the rows a migration seeds (0004's stream counter) come
 * back as it writes them, and the columns and indexes are its own. A migrated database is reset in one batch: one
 * round trip, one transaction, so nothing running beside it sees a table missing.
 */
export async function migrateAfresh(db: D1Database, migrations: D1Migration[]): Promise<void> {
  const objects = await schemaObjects(db);
  if (!objects.some((o) => o.name === MIGRATIONS_TABLE)) {
    // Never migrated (as startFresh leaves it): applyD1Migrations creates its table, then applies every migration.
    await dropTables(db);
    await applyD1Migrations(db, migrations);
    return;
  }
  await db.batch([
    ...objects.filter((o) => o.name !== MIGRATIONS_TABLE).map((o) => dropStatement(db, o)),
    // The record kept, emptied, and numbered from 1 again, as applyD1Migrations numbers it.
    db.prepare(`DELETE FROM ${MIGRATIONS_TABLE}`),
    db.prepare("DELETE FROM sqlite_sequence WHERE name = ?").bind(MIGRATIONS_TABLE),
    ...migrations.flatMap((m) => [
      ...m.queries.map((query) => db.prepare(query)),
      db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES (?)`).bind(m.name),
    ]),
  ]);
}

/** Deletes every key of a KV namespace. */
export async function emptyNamespace(kv: KVNamespace): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await kv.list({ cursor });
    await Promise.all(page.keys.map((key) => kv.delete(key.name)));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
}
