/** What change detection remembers per source: `snapshots`, `source_polls` (its lock) and `event_sequences`. */
import { insertMany } from "./events";

export interface SnapshotRow {
  item_id: string;
  status: string;
  provider_status: string;
  created_at: string;
}

/** A source as last polled: its snapshot, the poll version (0 = never) and the last event sequence it handed out. */
export interface SourceState {
  snapshot: SnapshotRow[];
  version: number;
  lastSequence: number;
}

export async function sourceState(db: D1Database, source: string): Promise<SourceState> {
  const [snapshot, version, sequence] = await db.batch([
    db.prepare("SELECT item_id, status, provider_status, created_at FROM snapshots WHERE source = ?").bind(source),
    db.prepare("SELECT MAX(version) AS version FROM source_polls WHERE source = ?").bind(source),
    db.prepare("SELECT sequence FROM event_sequences WHERE source = ?").bind(source),
  ]);
  return {
    snapshot: (snapshot?.results ?? []) as SnapshotRow[],
    version: (version?.results[0] as { version: number | null } | undefined)?.version ?? 0,
    lastSequence: (sequence?.results[0] as { sequence: number } | undefined)?.sequence ?? 0,
  };
}

/** What one poll of a source commits besides its events. */
export interface Poll {
  source: string;
  /** The version read with the state; the poll commits `version + 1` or, if another poll did, nothing. */
  version: number;
  now: string;
  items: number;
  events: number;
  /** Items new or changed since the snapshot. */
  touched: { id: string; status: string; provider_status: string; created_at: string }[];
  /** The last sequence handed out, when it moved. */
  sequence: number | null;
  /** Items older than this scrolled out of the watched window. */
  forgetBefore: string | null;
}

/**
 * The poll's statements, first the optimistic lock: a concurrent poll that read the same version fails on it
 * (see `isPollConflict`), so its transaction commits nothing.
 */
export function pollStatements(db: D1Database, p: Poll): D1PreparedStatement[] {
  return [
    db
      .prepare("INSERT INTO source_polls (source, version, polled_at, items, events) VALUES (?, ?, ?, ?, ?)")
      .bind(p.source, p.version + 1, p.now, p.items, p.events),
    db.prepare("DELETE FROM source_polls WHERE source = ? AND version < ?").bind(p.source, p.version - 10),
    ...insertMany(
      db,
      "snapshots",
      ["source", "item_id", "status", "provider_status", "created_at"],
      p.touched.map((item) => [p.source, item.id, item.status, item.provider_status, item.created_at]),
      "ON CONFLICT (source, item_id) DO UPDATE SET status = excluded.status, provider_status = excluded.provider_status, created_at = excluded.created_at",
    ),
    // Committed with the poll's version (the lock above), so two polls can never hand out the same numbers.
    ...(p.sequence === null
      ? []
      : [
          db
            .prepare(
              "INSERT INTO event_sequences (source, sequence) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET sequence = MAX(sequence, excluded.sequence)",
            )
            .bind(p.source, p.sequence),
        ]),
    ...(p.forgetBefore === null
      ? []
      : [db.prepare("DELETE FROM snapshots WHERE source = ? AND created_at < ?").bind(p.source, p.forgetBefore)]),
  ];
}

export const isPollConflict = (err: unknown) => String(err).includes("UNIQUE constraint failed: source_polls");

/** Forgets every source not in `watched`: watching one again starts from a fresh baseline. */
export async function forgetSourcesExcept(db: D1Database, watched: string[]): Promise<void> {
  const { results } = await db.prepare("SELECT DISTINCT source FROM source_polls").all<{ source: string }>();
  const stale = results.map((r) => r.source).filter((s) => !watched.includes(s));
  if (stale.length === 0) return;
  await db.batch(
    stale.flatMap((source) => [
      db.prepare("DELETE FROM snapshots WHERE source = ?").bind(source),
      db.prepare("DELETE FROM source_polls WHERE source = ?").bind(source),
    ]),
  );
}
