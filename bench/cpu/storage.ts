// The storage work of an invocation, recorded and replayed (bench/README.md, part 9, "Storage split"). Locally, D1
// (miniflare's SQLite) and the Durable Objects run in the measured workerd process, so their CPU is in every figure;
// in production they run elsewhere and are not billed to the invocation. The bench records every D1 statement and
// object call the worker makes in reference invocations (proxies around the bindings it passes, never during measured
// batches), then issues exactly those calls itself, from the same starting state, and measures that replay's CPU the
// way it measures the worker's. The D1 binding's client side (serializing statements, reading results) is billed in
// production, so it is measured apart: the same D1 calls through a D1 client whose transport answers from memory.

/** One D1 statement: SQL and bound values as the worker gave them. */
interface RecordedStatement {
  sql: string;
  params: unknown[];
}

/**
 * One storage round trip the worker made, in the order it made them. `waitFor`: the calls (indices in the
 * invocation) that completed between the previous call's issue and this one's, so a replay keeps the invocation's
 * concurrency (ten deliveries' statements in flight at once cost less than the same ones one after another).
 */
export type StorageCall = { waitFor: number[] } & StorageCallKind;

type StorageCallKind =
  | ({ kind: "d1"; via: "first" | "all" | "run" | "raw"; options: unknown[] } & RecordedStatement)
  | { kind: "d1"; via: "batch"; statements: RecordedStatement[] }
  | {
      kind: "object";
      binding: string;
      /** What the object was addressed by: its name (idFromName), else its id. */
      name: string | null;
      id: string;
      method: string;
      args: unknown[];
      /** What it answered (values it minted, like a lease, are carried into later calls of a replay). */
      result?: unknown;
    };

/** The storage calls of each recorded invocation. */
export type StorageTrace = StorageCall[][];

const STATEMENT_RUNS = new Set(["first", "all", "run", "raw"]);

function copy<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

const isObjectNamespace = (value: unknown): value is DurableObjectNamespace =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { idFromName?: unknown }).idFromName === "function" &&
  typeof (value as { get?: unknown }).get === "function";

/**
 * Records the storage calls made through the bindings it wraps, while a recording is open. The wrapped bindings are
 * made once per env object (the worker keeps per-binding state, such as the migrations seen), so a caller warms them
 * with one invocation outside a recording first.
 */
export class StorageRecorder {
  private open: StorageCall[] | null = null;
  /** Calls of the open recording completed since the last issue. */
  private completed: number[] = [];
  private readonly wrapped = new WeakMap<object, Env>();
  /** The real statement behind each recording one (a batch hands D1 the real ones). */
  private readonly statements = new WeakMap<object, { real: D1PreparedStatement } & RecordedStatement>();

  /** Starts recording one invocation; returns its calls when `stop` is called. */
  start(): void {
    this.open = [];
    this.completed = [];
  }

  stop(): StorageCall[] {
    const calls = this.open ?? [];
    this.open = null;
    return calls;
  }

  /** `env` with D1 and every Durable Object namespace wrapped; the same object for the same env. */
  wrap(env: Env): Env {
    let out = this.wrapped.get(env);
    if (!out) {
      const replaced: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(env)) {
        if (name === "DB") replaced[name] = this.d1(value as D1Database);
        else if (isObjectNamespace(value)) replaced[name] = this.namespace(name, value);
      }
      out = { ...env, ...replaced } as Env;
      this.wrapped.set(env, out);
    }
    return out;
  }

  /** Notes a call as issued; `answer` is what the worker awaits. */
  private push(call: StorageCallKind, answer: unknown): StorageCall {
    const recorded = { ...call, waitFor: this.completed } as StorageCall;
    const open = this.open;
    if (!open) return recorded;
    this.completed = [];
    const index = open.push(recorded) - 1;
    // Noted before the worker's own continuation runs (this callback is attached first).
    Promise.resolve(answer).then(
      (result) => {
        if (recorded.kind === "object") recorded.result = copy(result);
        if (this.open === open) this.completed.push(index);
      },
      () => {
        if (this.open === open) this.completed.push(index);
      },
    );
    return recorded;
  }

  private statement(real: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement {
    const proxy = new Proxy(real, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== "function") return value;
        if (name === "bind") return (...args: unknown[]) => this.statement(value.apply(target, args), sql, copy(args));
        if (typeof name === "string" && STATEMENT_RUNS.has(name))
          return (...options: unknown[]) => {
            const answer = value.apply(target, options);
            this.push({ kind: "d1", via: name as "first", sql, params, options: copy(options) }, answer);
            return answer;
          };
        return value.bind(target);
      },
    });
    this.statements.set(proxy, { real, sql, params });
    return proxy;
  }

  private d1(db: D1Database): D1Database {
    return new Proxy(db, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== "function") return value;
        if (name === "prepare") return (sql: string) => this.statement(value.call(target, sql), sql, []);
        if (name === "batch")
          return (list: D1PreparedStatement[]) => {
            const known = list.map((s) => this.statements.get(s));
            const answer = value.call(
              target,
              list.map((s, i) => known[i]?.real ?? s),
            );
            this.push(
              {
                kind: "d1",
                via: "batch",
                statements: known.map((k) => ({ sql: k?.sql ?? "?", params: k?.params ?? [] })),
              },
              answer,
            );
            return answer;
          };
        if (name === "exec" || name === "dump" || name === "withSession")
          throw new Error(`the CPU bench does not replay D1's ${String(name)}: add it to bench/cpu/storage.ts`);
        return value.bind(target);
      },
    });
  }

  private namespace(binding: string, ns: DurableObjectNamespace): DurableObjectNamespace {
    const names = new WeakMap<object, string>();
    const stub = (real: DurableObjectStub, id: DurableObjectId) =>
      new Proxy(real, {
        get: (target, name, receiver) => {
          // A stub is not a promise; its id, name and fetch are not recorded calls.
          if (name === "then") return undefined;
          if (typeof name !== "string" || name === "id" || name === "name" || name === "fetch")
            return Reflect.get(target, name, receiver);
          return (...args: unknown[]) => {
            const recordedArgs = copy(args);
            const answer = (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]?.(
              ...args,
            );
            // The caller gets the runtime's own promise; its answer is noted when it lands.
            this.push(
              {
                kind: "object",
                binding,
                name: names.get(id) ?? (id as { name?: string }).name ?? null,
                id: id.toString(),
                method: name,
                args: recordedArgs,
              },
              answer,
            );
            return answer;
          };
        },
      });
    return new Proxy(ns, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== "function") return value;
        if (name === "idFromName")
          return (n: string) => {
            const id = value.call(target, n) as DurableObjectId;
            names.set(id, n);
            return id;
          };
        if (name === "get")
          return (id: DurableObjectId, options?: unknown) => stub(value.call(target, id, options), id);
        if (name === "getByName")
          return (n: string, options?: unknown) => {
            const id = target.idFromName(n);
            names.set(id, n);
            return stub(value.call(target, n, options), id);
          };
        return value.bind(target);
      },
    });
  }
}

/** Strings an object minted (a lease), recorded → replayed, so a replay's later calls use its own. */
function pair(recorded: unknown, replayed: unknown, minted: Map<string, string>) {
  if (typeof recorded === "string" && typeof replayed === "string") {
    if (recorded !== replayed) minted.set(recorded, replayed);
  } else if (Array.isArray(recorded) && Array.isArray(replayed)) {
    for (const [i, r] of recorded.entries()) pair(r, replayed[i], minted);
  } else if (recorded && replayed && typeof recorded === "object" && typeof replayed === "object") {
    for (const [k, r] of Object.entries(recorded)) pair(r, (replayed as Record<string, unknown>)[k], minted);
  }
}

function carry(value: unknown, minted: Map<string, string>): unknown {
  if (minted.size === 0) return value;
  if (typeof value === "string") return minted.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => carry(v, minted));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, carry(v, minted)]));
  return value;
}

/**
 * Issues one invocation's storage calls in the order the worker issued them, each once the calls it followed have
 * completed (`waitFor`), so what the worker ran at once runs at once: D1 statements through `db`, object calls
 * through `bindings`' namespaces (skipped when `d1Only`). Resolves when every call has.
 */
export async function replay(calls: StorageCall[], db: D1Database, bindings: Env, d1Only = false): Promise<void> {
  const minted = new Map<string, string>();
  const prepared = (s: RecordedStatement) => {
    const statement = db.prepare(s.sql);
    return s.params.length > 0 ? statement.bind(...(carry(s.params, minted) as unknown[])) : statement;
  };
  const issue = (call: StorageCall): Promise<unknown> | null => {
    if (call.kind === "d1") {
      if (call.via === "batch") return db.batch(call.statements.map(prepared));
      return (prepared(call)[call.via] as (...o: unknown[]) => Promise<unknown>)(...call.options);
    }
    if (d1Only) return null;
    const ns = (bindings as unknown as Record<string, DurableObjectNamespace>)[call.binding];
    if (!ns) throw new Error(`replay: no binding ${call.binding}`);
    const stub = ns.get(call.name !== null ? ns.idFromName(call.name) : ns.idFromString(call.id));
    const method = (stub as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[call.method];
    if (!method) throw new Error(`replay: ${call.binding} has no ${call.method}`);
    return Promise.resolve(method(...(carry(call.args, minted) as unknown[]))).then((result) => {
      pair(call.result, result, minted);
      return result;
    });
  };
  const running: (Promise<unknown> | null)[] = [];
  for (const call of calls) {
    const waits = call.waitFor.map((i) => running[i]).filter((p) => p);
    if (waits.length === 1) await waits[0];
    else if (waits.length > 1) await Promise.all(waits);
    running.push(issue(call));
  }
  await Promise.all(running.filter((p) => p));
}

/** The D1 client the runtime gives the worker, on a transport of the bench's (null: not the shape expected). */
type D1Client = new (fetcher: { fetch: (url: string, init?: RequestInit) => Promise<Response> }) => D1Database;

/**
 * D1's client side apart from its server: the runtime's own D1 client (the class of the `DB` binding: it serializes
 * statements into a request and reads the answer back into results) on a transport that first forwards to the real
 * database and keeps its answers (`capture`), then answers the same requests from memory, in order (`fromMemory`).
 * Null when the binding is not that client (another runtime): the figure is then left out.
 */
export function d1ClientShim(binding: D1Database) {
  const raw = binding as unknown as { constructor: D1Client; fetcher?: Fetcher };
  const Client = raw.constructor;
  const fetcher = raw.fetcher;
  if (typeof Client !== "function" || !fetcher || typeof fetcher.fetch !== "function") return null;
  const answers: { status: number; body: string }[] = [];
  const capture = new Client({
    async fetch(url, init) {
      const res = await fetcher.fetch(url, init);
      const body = await res.text();
      answers.push({ status: res.status, body });
      return new Response(body, { status: res.status, headers: { "Content-Type": "application/json" } });
    },
  });
  let next = 0;
  const fromMemory = new Client({
    async fetch() {
      const answer = answers[next++ % Math.max(1, answers.length)];
      if (!answer) throw new Error("D1 client shim: nothing captured");
      return new Response(answer.body, { status: answer.status, headers: { "Content-Type": "application/json" } });
    },
  });
  return {
    capture,
    fromMemory,
    /** Round trips captured so far. */
    captured: () => answers.length,
    /** The next replay starts at the first answer again. */
    rewind: () => {
      next = 0;
    },
  };
}

/** Tables a statement writes (INSERT, UPDATE, DELETE, REPLACE; an upsert's `DO UPDATE SET` is its INSERT's table). */
export function tablesWritten(traces: StorageTrace): string[] {
  const tables = new Set<string>();
  const writes =
    /\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|(?<!\bDO\s+)UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+["`[]?(\w+)/gi;
  const statements = traces.flat().flatMap((c) => (c.kind !== "d1" ? [] : c.via === "batch" ? c.statements : [c]));
  for (const s of statements) for (const m of s.sql.matchAll(writes)) if (m[1]) tables.add(m[1]);
  return [...tables].sort();
}

/** Counts per invocation (means over the recorded invocations: object round trips can be amortized). */
export function storageCounts(traces: StorageTrace) {
  const n = Math.max(1, traces.length);
  const calls = traces.flat();
  const per = (v: number) => Math.round((v / n) * 1000) / 1000;
  const byVia: Record<string, number> = {};
  const byObject: Record<string, number> = {};
  const statements = new Map<string, { via: string; calls: number }>();
  let d1Statements = 0;
  let d1RoundTrips = 0;
  let objectRoundTrips = 0;
  for (const c of calls) {
    if (c.kind === "object") {
      objectRoundTrips++;
      const key = `${c.binding}.${c.method}`;
      byObject[key] = (byObject[key] ?? 0) + 1;
      continue;
    }
    d1RoundTrips++;
    byVia[c.via] = (byVia[c.via] ?? 0) + 1;
    const list = c.via === "batch" ? c.statements : [c];
    d1Statements += list.length;
    for (const s of list) {
      const key = `${c.via}\u0000${s.sql.replace(/\s+/g, " ").trim()}`;
      const seen = statements.get(key) ?? { via: c.via, calls: 0 };
      seen.calls++;
      statements.set(key, seen);
    }
  }
  return {
    invocationsRecorded: traces.length,
    d1Statements: per(d1Statements),
    d1RoundTrips: per(d1RoundTrips),
    d1ByVia: Object.fromEntries(Object.entries(byVia).map(([k, v]) => [k, per(v)])),
    objectRoundTrips: per(objectRoundTrips),
    objectCalls: Object.fromEntries(Object.entries(byObject).map(([k, v]) => [k, per(v)])),
    tablesWritten: tablesWritten(traces),
    statements: [...statements].map(([key, s]) => ({
      via: s.via,
      sql: (key.split("\u0000")[1] ?? "").slice(0, 240),
      perInvocation: per(s.calls),
    })),
  };
}

/** Primary-key columns of a table (rowid when it declares none). */
async function keyColumns(db: D1Database, table: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")
    .bind(table)
    .all<{ name: string }>();
  return results.length > 0 ? results.map((r) => r.name) : ["rowid"];
}

/**
 * For a request type whose invocations only add rows (a keyed POST: a new feed and a new idempotency key each time):
 * `mark` before the recorded invocations, then `undoFor` checks that they changed no row that was there (else the
 * type needs an undo of its own) and returns the statements that delete the rows a replay of them adds again (the
 * same keys: the replay binds the same values).
 */
export async function insertOnlyUndo(db: D1Database, tables: string[]) {
  const q = (t: string) => `"${t.replace(/"/g, '""')}"`;
  const marks = new Map<string, { top: number; rows: string }>();
  for (const t of tables) {
    const top = (await db.prepare(`SELECT COALESCE(MAX(rowid), 0) AS top FROM ${q(t)}`).first<{ top: number }>())?.top;
    const rows = await db
      .prepare(`SELECT * FROM ${q(t)} WHERE rowid <= ? ORDER BY rowid`)
      .bind(top)
      .all();
    marks.set(t, { top: top ?? 0, rows: JSON.stringify(rows.results) });
  }
  return async (): Promise<{ undo: () => Promise<void>; rowsAdded: number }> => {
    const statements: D1PreparedStatement[] = [];
    for (const t of tables) {
      const mark = marks.get(t);
      if (!mark) continue;
      const old = await db
        .prepare(`SELECT * FROM ${q(t)} WHERE rowid <= ? ORDER BY rowid`)
        .bind(mark.top)
        .all();
      if (JSON.stringify(old.results) !== mark.rows)
        throw new Error(`the recorded invocations changed rows already in ${t}: this request type needs its own undo`);
      const keys = await keyColumns(db, t);
      const added = await db
        .prepare(`SELECT ${keys.map(q).join(", ")} FROM ${q(t)} WHERE rowid > ?`)
        .bind(mark.top)
        .raw();
      const where = keys.map((k) => `${q(k)} = ?`).join(" AND ");
      for (const values of added) statements.push(db.prepare(`DELETE FROM ${q(t)} WHERE ${where}`).bind(...values));
    }
    return {
      undo: async () => {
        if (statements.length > 0) await db.batch(statements);
      },
      rowsAdded: statements.length,
    };
  };
}
