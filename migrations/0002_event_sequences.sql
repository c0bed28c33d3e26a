-- Event order for consumers. Deliveries are at least once, retried, replayed and concurrent, so a consumer can
-- receive an older state after a newer one. Every run and batch event now carries `sequence`: strictly increasing
-- per source, hence per object (an object is listed by exactly one source). A consumer that keeps the highest
-- sequence it has applied per object, and drops anything not above it, never goes back to an older state.

ALTER TABLE events ADD COLUMN sequence INTEGER;    -- NULL for ping; also in `payload`, so retries and replays carry it

-- The last sequence handed out per source. Never pruned (one row per source): a source that is watched again, or
-- whose events all expired, continues above every number it ever sent.
CREATE TABLE event_sequences (
  source TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL
);

-- Events recorded before this migration: numbered per source in creation order (ids are time-ordered and minted
-- in detection order), payloads included, and each source's counter starts above them.
UPDATE events SET sequence = numbered.n
FROM (
  SELECT id, ROW_NUMBER() OVER (PARTITION BY source ORDER BY created_at, id) AS n FROM events WHERE source IS NOT NULL
) AS numbered
WHERE numbered.id = events.id;

UPDATE events SET payload = json_set(payload, '$.sequence', sequence) WHERE sequence IS NOT NULL;

INSERT INTO event_sequences (source, sequence)
SELECT source, MAX(sequence) FROM events WHERE source IS NOT NULL GROUP BY source;
