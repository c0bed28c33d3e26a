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
