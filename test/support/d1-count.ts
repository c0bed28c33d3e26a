/** What a D1 binding was asked: round trips (a statement run alone or one batch), statements, and rows per D1's meta. */
export interface D1Count {
  calls: number;
  statements: number;
  rowsRead: number;
  rowsWritten: number;
  /** Rows handed back to the isolate (what its D1 client decodes), by statements run alone or in a batch. */
  rowsReturned: number;
  /** The first words of each statement, in order (a batch's as `batch[…]`). */
  log: string[];
}

const head = (sql: string) => sql.trim().split(/\s+/).slice(0, 3).join(" ");

type Meta = { rows_read?: number; rows_written?: number };

/**
 * A D1 binding that counts what goes through it, for measuring what a request costs. `first()` is served by `all()`
 * so its rows are counted too.
 */
export function countingD1(db: D1Database): { binding: D1Database; count: D1Count; reset(): void } {
  const count: D1Count = { calls: 0, statements: 0, rowsRead: 0, rowsWritten: 0, rowsReturned: 0, log: [] };
  const real = new WeakMap<object, D1PreparedStatement>();
  const addMeta = (meta: Meta | undefined, results?: unknown[]) => {
    count.rowsRead += meta?.rows_read ?? 0;
    count.rowsWritten += meta?.rows_written ?? 0;
    count.rowsReturned += results?.length ?? 0;
  };
  const wrap = (stmt: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const one = async <T>(run: () => Promise<T & { meta?: Meta }>) => {
      count.calls += 1;
      count.statements += 1;
      count.log.push(head(sql));
      const result = await run();
      addMeta(result.meta, (result as { results?: unknown[] }).results);
      return result;
    };
    const wrapped = {
      bind: (...values: unknown[]) => wrap(stmt.bind(...values), sql),
      run: () => one(() => stmt.run()),
      all: () => one(() => stmt.all()),
      raw: (options?: { columnNames?: boolean }) => {
        count.calls += 1;
        count.statements += 1;
        count.log.push(head(sql));
        return stmt.raw(options as { columnNames: true });
      },
      first: async (column?: string) => {
        const { results } = await one(() => stmt.all<Record<string, unknown>>());
        const row = results[0] ?? null;
        return column === undefined || row === null ? row : (row[column] ?? null);
      },
    } as unknown as D1PreparedStatement;
    real.set(wrapped, stmt);
    return wrapped;
  };
  const binding = {
    prepare: (sql: string) => wrap(db.prepare(sql), sql),
    batch: async (statements: D1PreparedStatement[]) => {
      count.calls += 1;
      count.statements += statements.length;
      const results = await db.batch(statements.map((s) => real.get(s) ?? s));
      count.log.push(`batch[${statements.length}]`);
      for (const r of results) addMeta(r.meta, r.results);
      return results;
    },
    exec: (sql: string) => db.exec(sql),
    withSession: () => {
      throw new Error("not counted");
    },
    dump: () => db.dump(),
  } as unknown as D1Database;
  return {
    binding,
    count,
    reset() {
      Object.assign(count, { calls: 0, statements: 0, rowsRead: 0, rowsWritten: 0, rowsReturned: 0, log: [] });
    },
  };
}
