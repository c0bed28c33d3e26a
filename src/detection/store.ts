import { ENDPOINT_COLUMNS, type WatchingRow } from "../delivery/endpoint-store";
/**
 * What change detection remembers per watched listing and upstream credential: `detection_state` (the frontier, the
 * lease, the commit version), `detection_checks` (the optimistic lock and each check's figures), `watched_items` (open
 * items) and `event_sequences`. See migrations/0003.
 */
import { deleteJson, insertMany, updateJson } from "../storage/insert-many";

/**
 * Where an unfinished scan goes on: the offset it reached in the `updated_at` order and the marks it reads down to.
 * Reading again from the same offset later misses nothing it had not read: an unchanged item only moves down as new
 * and changed items rise to the top (where the next scan reads first), so what lay below the offset still does.
 */
export interface ScanResume {
  offset: number;
  marks: string[];
}

/** Where a source's frontier sat upstream when last read, and what was learned there: hints only. */
export interface DetectionHints {
  /** Upstream offset where the frontier's tie group began, and its length. */
  at: number;
  span: number;
  /** The upstream's total then (Inkit), to estimate how far head inserts moved the frontier. */
  total: number | null;
  /** A page-size cap learned on the listing (0: none). */
  cap: number;
  /** A cap learned on the open-items listings (8x8 status filters): read them in windows of it. */
  openCap?: number;
  /** Inkit: the first ids of the last `updated_at` scan (see detection/lookups.ts). */
  marks?: string[];
  /** Inkit: where an unfinished `updated_at` scan goes on (see detection/lookups.ts). */
  resume?: ScanResume;
  /** Inkit: the listing's total when the last scan read its top: how much it grew since bounds where the marks sit. */
  scanTotal?: number;
  /** Items one read of new items asks for, when a small budget against a silent cap made it shrink (see frontier.ts). */
  page?: number;
  /** How far above the frontier's group the last read had to start: a tie group there was wider than a page. */
  reach?: number;
  /** When the watched items were last read again (unix ms): a check that continues a backlog soon after skips it. */
  lookedAt?: number;
  /**
   * 8x8: where the last share of open rows (a segment in start-time order, see `RowShare`) ended: the next one starts
   * below it. Absent: the next one starts at the newest row.
   */
  below?: { at: string; id: string };
  /** 8x8: which open list takes its turn in the next pass of segments (see detection/lookups.ts). */
  turn?: number;
  /** 8x8: the definition version the frontier lies in (the default listing follows the latest version). */
  version?: string;
  /**
   * 8x8: a newer version the default listing moved to. The frontier's own version is read to its end first (pinned),
   * then detection starts at the beginning of this one: all of its items are new.
   */
  movedTo?: string;
}

export interface DetectionState {
  /** created_at of the newest announced item; null when the listing was empty at the baseline. */
  frontierAt: string | null;
  /** Ids announced at `frontierAt`. */
  frontierIds: string[];
  hints: DetectionHints;
  backlog: boolean;
  /** Checks committed so far; 0 = never checked. */
  version: number;
}

export interface WatchedRow {
  item_id: string;
  status: string;
  provider_status: string;
  created_at: string;
  /** 8x8: the definition version the instance runs on. */
  version: string | null;
  /**
   * The normalized item as last announced or changed (JSON); null: none stored (rows from old snapshots); "": stored,
   * but not read (a check's open rows, see `stateReads`).
   */
  object: string | null;
  /** When detection first saw it open: the watch horizon counts from here. */
  seen_at: string;
  checked_at: string;
  /**
   * 1 while open: read again by every check. 0: terminal, read again only when a push names it, and compared with what
   * a lookup shows of it anyway (Inkit's scan, 8x8's open lists).
   */
  open: number;
}

const WATCHED_COLUMNS = "item_id, status, provider_status, created_at, version, object, seen_at, checked_at, open";
/** A check's open rows without their stored items, which only the rows it stops watching need ("" when stored). */
const OPEN_ROW_COLUMNS = WATCHED_COLUMNS.replace("object", "CASE WHEN object IS NULL THEN NULL ELSE '' END AS object");

/** One watched listing as one upstream credential sees it. */
export interface WatchKey {
  source: string;
  /** `configured`: the deployment's own credential. */
  credential: string;
}

const NO_HINTS: DetectionHints = { at: 0, span: 0, total: null, cap: 0 };

/**
 * Which open rows a check reads when it reads a share of them: `checked`, the least recently checked (Inkit: its
 * direct reads take their turns from them); `segment`, the next rows down in start-time order from where the last
 * share ended (`DetectionHints.below`), wrapping to the newest after the oldest (8x8: its open lists are read within
 * the start times the share spans, see `segmentOf`). `rows`: how many.
 */
export interface RowShare {
  rows: number;
  by: "checked" | "segment";
}

/** What a check reads when it takes a source's lease: its state, its open watched items, its last sequence. */
export interface HeldSource {
  lease: string;
  state: DetectionState;
  /**
   * All of the open ones, least recently checked first; or the share asked for, in its order (a segment: newest first,
   * with one row more than asked for when more rows lie below it).
   */
  watched: WatchedRow[];
  /** Open watched items in all (more than `watched` holds when the check read a share). */
  openCount: number;
  /** The last event sequence handed out for the source. */
  lastSequence: number;
}

/**
 * Takes the source's lease for `leaseMs` unless another check holds it (no two checks of a source run at once), and
 * reads what the check starts from, in the same batch: one round trip. Null when the source is busy (what was read
 * then is dropped).
 */
export async function claimSource(
  db: D1Database,
  key: WatchKey,
  now: number,
  leaseMs: number,
  share?: RowShare,
): Promise<HeldSource | null> {
  const token = crypto.randomUUID();
  const [, claimed, ...reads] = await db.batch([
    db
      .prepare("INSERT OR IGNORE INTO detection_state (source, credential) VALUES (?, ?)")
      .bind(key.source, key.credential),
    db
      .prepare(
        "UPDATE detection_state SET lease_until = ?, lease_token = ? WHERE source = ? AND credential = ? AND (lease_until IS NULL OR lease_until <= ?)",
      )
      .bind(now + leaseMs, token, key.source, key.credential, now),
    ...stateReads(db, key, share),
  ]);
  if ((claimed?.meta.changes ?? 0) !== 1) return null;
  return { lease: token, ...stateOf(reads) };
}

/** Gives the lease back without committing (a check that failed): the next check starts from the same state. */
export async function releaseSource(db: D1Database, key: WatchKey, token: string): Promise<void> {
  await db
    .prepare(
      "UPDATE detection_state SET lease_until = NULL, lease_token = NULL WHERE source = ? AND credential = ? AND lease_token = ?",
    )
    .bind(key.source, key.credential, token)
    .run();
}

/**
 * The reads of the source's state, its open watched items (all of them, or the share asked for, with their number in
 * all) and its last sequence.
 */
function stateReads(db: D1Database, key: WatchKey, share?: RowShare): D1PreparedStatement[] {
  const open = "FROM watched_items WHERE source = ?1 AND credential = ?2 AND open = 1";
  return [
    db
      .prepare(
        "SELECT frontier_at, frontier_ids, hints, backlog, version FROM detection_state WHERE source = ? AND credential = ?",
      )
      .bind(key.source, key.credential),
    share?.by === "segment"
      ? segmentRead(db, key, open, share.rows)
      : db
          .prepare(
            `SELECT ${OPEN_ROW_COLUMNS}, COUNT(*) OVER () AS open_count ${open} ORDER BY checked_at, created_at, item_id LIMIT ?3`,
          )
          .bind(key.source, key.credential, share?.rows ?? -1),
    db.prepare("SELECT sequence FROM event_sequences WHERE source = ?").bind(key.source),
    // A segment may hold no row (none below the last one's end): the count is read on its own then.
    ...(share?.by === "segment"
      ? [db.prepare(`SELECT COUNT(*) AS open_count ${open}`).bind(key.source, key.credential)]
      : []),
  ];
}

/**
 * A segment starts below the last one's end, kept in the state's hints (read in the same statement, so the claim stays
 * one round trip); '~' sorts after every timestamp, so without an end it starts at the newest row. It reads one row
 * more than its share, which tells the check whether more rows lie below.
 */
const segmentRead = (db: D1Database, key: WatchKey, open: string, rows: number) =>
  db
    .prepare(
      `SELECT ${OPEN_ROW_COLUMNS} ${open} AND (created_at, item_id) < (SELECT coalesce(json_extract(hints, '$.below.at'), '~'), coalesce(json_extract(hints, '$.below.id'), '') FROM detection_state WHERE source = ?1 AND credential = ?2) ORDER BY created_at DESC, item_id DESC LIMIT ?3`,
    )
    .bind(key.source, key.credential, rows + 1);

/** What `stateReads` answered, as the check uses it. */
function stateOf([state, watched, sequence, count]: D1Result[]): Omit<HeldSource, "lease"> {
  const row = state?.results[0] as
    | { frontier_at: string | null; frontier_ids: string; hints: string; backlog: number; version: number }
    | undefined;
  const current: DetectionState = {
    frontierAt: row?.frontier_at ?? null,
    frontierIds: row ? (JSON.parse(row.frontier_ids) as string[]) : [],
    hints: row ? { ...NO_HINTS, ...(JSON.parse(row.hints) as Partial<DetectionHints>) } : NO_HINTS,
    backlog: row?.backlog === 1,
    version: row?.version ?? 0,
  };
  // Each row may also carry `open_count` (the same in every row): left on it rather than copying every row without it.
  const open = (watched?.results ?? []) as (WatchedRow & { open_count?: number })[];
  const counted = (count ?? watched)?.results[0] as { open_count: number } | undefined;
  return {
    state: current,
    watched: open,
    openCount: counted?.open_count ?? 0,
    lastSequence: (sequence?.results[0] as { sequence: number } | undefined)?.sequence ?? 0,
  };
}

/** Rows of named items, open or not (an inbound push names the item it concerns). */
export async function watchedByIds(db: D1Database, key: WatchKey, ids: string[]): Promise<WatchedRow[]> {
  // D1 binds at most 100 parameters per statement: 90 ids each, in one batch.
  const statements = chunks(ids, 90).map((part) =>
    db
      .prepare(
        `SELECT ${WATCHED_COLUMNS} FROM watched_items WHERE source = ? AND credential = ? AND item_id IN (${part.map(() => "?").join(", ")})`,
      )
      .bind(key.source, key.credential, ...part),
  );
  if (statements.length === 0) return [];
  const answers = await db.batch<WatchedRow>(statements);
  return answers.flatMap((a) => a.results);
}

/** What one check commits besides its events. */
export interface CheckCommit {
  key: WatchKey;
  /** The version read with the state: the check commits `version + 1` or, if another check did, nothing. */
  version: number;
  lease: string;
  now: string;
  state: Omit<DetectionState, "version">;
  /** Watched items to insert or update, and ids to stop watching. */
  watch: WatchedRow[];
  unwatch: string[];
  /** Unchanged watched items read again: only their check time is written. */
  touched: string[];
  /** Terminal rows first seen before this are dropped: past the horizon no push is followed either. */
  horizonStart: string;
  /** The last sequence handed out, when it moved. */
  sequence: number | null;
  figures: { calls: number; created: number; events: number; watched: number };
}

/**
 * The check's statements, first the lock: a concurrent check that read the same version, or one that lost its lease,
 * fails on it (see `isCheckConflict`), so its transaction commits nothing.
 */
export function commitStatements(db: D1Database, c: CheckCommit): D1PreparedStatement[] {
  return [...checkRecord(db, c), frontierUpdate(db, c), ...watchUpdates(db, c), ...sequenceUpdate(db, c)];
}

/** The check's figures, recorded under the lease it holds (the lock: a lost lease fails the whole commit). */
function checkRecord(db: D1Database, c: CheckCommit): D1PreparedStatement[] {
  const { key, figures: f } = c;
  return [
    db
      .prepare(
        "INSERT INTO detection_checks (source, credential, version, checked_at, calls, created, events, backlog, watched, lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT lease_token FROM detection_state WHERE source = ? AND credential = ? AND lease_token = ?))",
      )
      .bind(
        key.source,
        key.credential,
        c.version + 1,
        c.now,
        f.calls,
        f.created,
        f.events,
        c.state.backlog ? 1 : 0,
        f.watched,
        key.source,
        key.credential,
        c.lease,
      ),
    db
      .prepare("DELETE FROM detection_checks WHERE source = ? AND credential = ? AND version < ?")
      .bind(key.source, key.credential, c.version - 100),
  ];
}

/** The new frontier and commit version; it also releases the lease. */
function frontierUpdate(db: D1Database, c: CheckCommit): D1PreparedStatement {
  const { key, state } = c;
  return db
    .prepare(
      "UPDATE detection_state SET frontier_at = ?, frontier_ids = ?, hints = ?, backlog = ?, version = ?, checked_at = ?, lease_until = NULL, lease_token = NULL WHERE source = ? AND credential = ? AND lease_token = ?",
    )
    .bind(
      state.frontierAt,
      JSON.stringify(state.frontierIds),
      JSON.stringify(state.hints),
      state.backlog ? 1 : 0,
      c.version + 1,
      c.now,
      key.source,
      key.credential,
      c.lease,
    );
}

/** Watch rows written, closed watches past the horizon pruned, unwatched items removed. */
function watchUpdates(db: D1Database, c: CheckCommit): D1PreparedStatement[] {
  const { key } = c;
  const ofSource = { sql: "source = ? AND credential = ?", values: [key.source, key.credential] };
  return [
    // Bound as values, not as one JSON array: each row holds the item's JSON, which a JSON array would escape again.
    ...insertMany(
      db,
      "watched_items",
      ["source", "credential", ...WATCHED_COLUMNS.split(", ")],
      c.watch.map((w) => [
        key.source,
        key.credential,
        w.item_id,
        w.status,
        w.provider_status,
        w.created_at,
        w.version,
        w.object,
        w.seen_at,
        w.checked_at,
        w.open,
      ]),
      "ON CONFLICT (source, credential, item_id) DO UPDATE SET status = excluded.status, provider_status = excluded.provider_status, version = excluded.version, object = excluded.object, checked_at = excluded.checked_at, open = excluded.open",
    ),
    db
      .prepare("DELETE FROM watched_items WHERE source = ? AND credential = ? AND open = 0 AND seen_at < ?")
      .bind(key.source, key.credential, c.horizonStart),
    ...deleteJson(db, "watched_items", ofSource, "item_id", c.unwatch),
    ...updateJson(db, "watched_items", { sql: "checked_at = ?", values: [c.now] }, ofSource, "item_id", c.touched),
  ];
}

/** The source's sequence counter, committed with the check's version (the lock), so no number is handed out twice. */
function sequenceUpdate(db: D1Database, c: CheckCommit): D1PreparedStatement[] {
  if (c.sequence === null) return [];
  return [
    db
      .prepare(
        "INSERT INTO event_sequences (source, sequence) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET sequence = MAX(sequence, excluded.sequence)",
      )
      .bind(c.key.source, c.sequence),
  ];
}

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Another check committed first, or took over this check's lease: this one committed nothing. */
export const isCheckConflict = (err: unknown) => /constraint failed: detection_checks/.test(String(err));

/** Forgets every source not in `watched`: watching one again starts from a fresh baseline. */
export async function forgetSourcesExcept(db: D1Database, watched: string[]): Promise<void> {
  const { results } = await db.prepare("SELECT DISTINCT source FROM detection_state").all<{ source: string }>();
  // A set: a tick of 1,000 connections × 3 sources compares 3,000 states with 3,000 sources.
  const kept = new Set(watched);
  const stale = results.map((r) => r.source).filter((s) => !kept.has(s));
  if (stale.length === 0) return;
  await db.batch(
    stale.flatMap((source) =>
      ["detection_state", "detection_checks", "watched_items"].map((table) =>
        db.prepare(`DELETE FROM ${table} WHERE source = ?`).bind(source),
      ),
    ),
  );
}

/**
 * Sources whose check the budget put off and which are queued again for later than `now`: the tick sends them no other
 * check. Forgets the deferrals that have run out.
 */
export async function deferredSources(db: D1Database, now: number): Promise<Set<string>> {
  const [, pending] = await db.batch<{ source: string }>([
    db.prepare("DELETE FROM detection_deferrals WHERE until <= ?").bind(now),
    db.prepare("SELECT source FROM detection_deferrals"),
  ]);
  return new Set((pending?.results ?? []).map((r) => r.source));
}

/** The check of `source` is queued again for `until` (unix ms), after the budget put it off. */
export async function deferCheck(db: D1Database, source: string, until: number): Promise<void> {
  await db
    .prepare(
      "INSERT INTO detection_deferrals (source, until) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET until = excluded.until",
    )
    .bind(source, until)
    .run();
}

/** The put-off check of `source` has run: the ticks send it checks again. */
export async function endDeferral(db: D1Database, source: string): Promise<void> {
  await db.prepare("DELETE FROM detection_deferrals WHERE source = ?").bind(source).run();
}

/** Source keys some enabled endpoint or some poll-only subscription watches: the only ones change detection polls. */
export async function watchedSources(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT s.value AS source FROM webhook_endpoints e, json_each(e.sources) s WHERE e.enabled = 1
       UNION SELECT s.value FROM event_subscriptions sub, json_each(sub.sources) s
       ORDER BY 1`,
    )
    .all<{ source: string }>();
  return results.map((r) => r.source);
}

/** Every endpoint (any tenant, enabled or not) and every poll-only subscription that watches a source. */
export async function endpointsWatching(db: D1Database, source: string): Promise<WatchingRow[]> {
  const watches = (alias: string) => `EXISTS (SELECT 1 FROM json_each(${alias}.sources) s WHERE s.value = ?1)`;
  const { results } = await db
    .prepare(
      `SELECT ${ENDPOINT_COLUMNS}, 1 AS delivers FROM webhook_endpoints e WHERE ${watches("e")}
       UNION ALL
       SELECT id, tenant, '' AS url, description, event_types, sources, 1 AS enabled, NULL AS disabled_reason,
         created_at, updated_at, 0 AS delivers
       FROM event_subscriptions sub WHERE ${watches("sub")}
       ORDER BY created_at, id`,
    )
    .bind(source)
    .all<WatchingRow>();
  return results;
}
