import { env } from "cloudflare:workers";

/** The test runtime's D1 databases: the worker's own, one never migrated, one a test migrates step by step. */
export const testDatabases = () => {
  const bindings = env as unknown as Record<string, D1Database>;
  return [bindings.DB, bindings.TEST_BARE_DB, bindings.TEST_UPGRADE_DB] as D1Database[];
};

/** Drops every table of a database, newest first (so no foreign key points at a dropped table): a never-migrated database. */
export async function dropTables(db: D1Database): Promise<void> {
  const { results } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY rowid DESC",
    )
    .all<{ name: string }>();
  for (const { name } of results) await db.prepare(`DROP TABLE "${name}"`).run();
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
