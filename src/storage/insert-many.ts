type Value = string | number | null;

/**
 * D1's largest string value is 2,000,000 bytes, and a UTF-16 unit of JSON text takes at most 3 bytes of UTF-8: one
 * statement's rows, as JSON, stay under this many units.
 */
const MAX_JSON_UNITS = 600_000;

/**
 * Multi-row INSERTs of `rows` (each `columns.length` values), each chunk of rows bound as one JSON array and expanded
 * by `json_each`: 500 rows are one statement, not one per 100 bound values (D1's limit), so a large write prepares and
 * runs a few statements instead of dozens. The rows keep their order. `values` gives each column's SQL expression
 * over the row's own values (`$0`, `$1`, ...: its values by place), by default its own value; `suffix` follows the
 * SELECT (an upsert's `ON CONFLICT`). Strings, integers and null are stored as bound values would be. For rows of
 * short values: rows that hold JSON text (an event's body) cost the isolate more this way than as bound values
 * (`insertMany`), since the array escapes that text once more.
 * @example insertJson(db, "t", ["a", "b"], [["x", 1], ["y", 2]]) // one INSERT ... SELECT ... FROM json_each(?)
 */
export function insertJson(
  db: D1Database,
  table: string,
  columns: string[],
  rows: Value[][],
  options: { values?: string[]; suffix?: string } = {},
): D1PreparedStatement[] {
  const values = (options.values ?? columns.map((_, i) => `$${i}`)).map((v) =>
    v.replace(/\$(\d+)/g, (_, i: string) => `json_extract(value, '$[${i}]')`),
  );
  // `WHERE true`: without it SQLite would read an upsert's ON as the start of a join.
  const sql = `INSERT INTO ${table} (${columns.join(", ")}) SELECT ${values.join(", ")} FROM json_each(?) WHERE true ${options.suffix ?? ""}`;
  return jsonChunks(rows).map((json) => db.prepare(sql).bind(json));
}

/** `rows` as JSON arrays of rows, each within MAX_JSON_UNITS (one row alone may be larger), in order. */
function jsonChunks(rows: unknown[]): string[] {
  const chunks: string[] = [];
  let chunk: string[] = [];
  let units = 0;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (chunk.length > 0 && units + json.length + 1 > MAX_JSON_UNITS) {
      chunks.push(`[${chunk.join(",")}]`);
      chunk = [];
      units = 0;
    }
    chunk.push(json);
    units += json.length + 1;
  }
  if (chunk.length > 0) chunks.push(`[${chunk.join(",")}]`);
  return chunks;
}

/**
 * DELETEs of the rows of `table` matching `where` (with its own bound `values`) whose `column` is one of `ids`: the ids
 * bound as one JSON array a statement, as `insertJson` binds rows.
 */
export function deleteJson(
  db: D1Database,
  table: string,
  where: { sql: string; values: Value[] },
  column: string,
  ids: string[],
): D1PreparedStatement[] {
  return whereIdsIn(db, { sql: `DELETE FROM ${table}`, values: [] }, where, column, ids);
}

/**
 * UPDATEs setting `set` (with its own bound `values`) on the rows of `table` matching `where` whose `column` is one of
 * `ids`: the ids bound as one JSON array a statement, as `deleteJson` binds them.
 * @example updateJson(db, "t", { sql: "seen = ?", values: [now] }, { sql: "k = ?", values: [k] }, "id", ids)
 */
export function updateJson(
  db: D1Database,
  table: string,
  set: { sql: string; values: Value[] },
  where: { sql: string; values: Value[] },
  column: string,
  ids: string[],
): D1PreparedStatement[] {
  return whereIdsIn(db, { sql: `UPDATE ${table} SET ${set.sql}`, values: set.values }, where, column, ids);
}

/** `head` on the rows matching `where` whose `column` is one of `ids`, the ids bound as one JSON array a statement. */
function whereIdsIn(
  db: D1Database,
  head: { sql: string; values: Value[] },
  where: { sql: string; values: Value[] },
  column: string,
  ids: string[],
): D1PreparedStatement[] {
  const sql = `${head.sql} WHERE ${where.sql} AND ${column} IN (SELECT value FROM json_each(?))`;
  return jsonChunks(ids).map((json) => db.prepare(sql).bind(...head.values, ...where.values, json));
}

/** D1 allows at most 100 bound parameters per statement. */
const MAX_PARAMS = 100;

/** Multi-row INSERTs of `rows` (each `columns.length` values), chunked to stay within D1's parameter limit. */
export function insertMany(
  db: D1Database,
  table: string,
  columns: string[],
  rows: (string | number | null)[][],
  suffix = "",
): D1PreparedStatement[] {
  return insertExpressions(
    db,
    table,
    columns,
    columns.map(() => "?"),
    rows,
    suffix,
  );
}

/** `insertMany` where each column's value is an SQL expression (`values`) binding exactly one `?`. */
export function insertExpressions(
  db: D1Database,
  table: string,
  columns: string[],
  values: string[],
  rows: (string | number | null)[][],
  suffix: string,
): D1PreparedStatement[] {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const statements: D1PreparedStatement[] = [];
  const tuple = `(${values.join(", ")})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    statements.push(
      db
        .prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")} ${suffix}`)
        .bind(...chunk.flat()),
    );
  }
  return statements;
}

/**
 * The INSERT of one row: its keys are the columns, in the order they were written.
 * @example insertRow(db, "feeds", { id, tenant, description: null, sources: "[]", created_at })
 */
export function insertRow<Row extends object>(db: D1Database, table: string, row: Row): D1PreparedStatement {
  const columns = Object.keys(row);
  const values = Object.values(row) as (string | number | null)[];
  return db
    .prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
    .bind(...values);
}

/** Inserts one row, with `alongside` in the same transaction (e.g. a keyed POST's kept answer). */
export async function insertWith<Row extends object>(
  db: D1Database,
  table: string,
  row: Row,
  alongside: D1PreparedStatement[] = [],
): Promise<void> {
  await db.batch([insertRow(db, table, row), ...alongside]);
}
