-- The pull stream (GET /v1/event-stream) and poll-only subscriptions.
--
-- Events are read by pull in commit order. `created_at` is taken before the transaction that inserts an event, so
-- concurrent writers commit out of `created_at` order, and a poller walking by (created_at, id) could pass an event
-- that commits later with an earlier time. `position` is taken from one counter inside the inserting transaction
-- (D1 has one writer and a batch is a transaction), so positions follow commit order: a poller that remembers the
-- last position it read sees every later commit above it.

ALTER TABLE events ADD COLUMN position INTEGER;    -- set by every insert (store/events.ts); unique

-- One row: the last position handed out, and the highest position retention deleted (a cursor below it has lost
-- events, and says so instead of silently skipping them).
CREATE TABLE event_stream (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last INTEGER NOT NULL,
  pruned INTEGER NOT NULL
);

-- Events recorded before this migration: numbered in creation order (ids are time-ordered and minted in detection
-- order), and the counter starts above them.
UPDATE events SET position = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM events) AS numbered
WHERE numbered.id = events.id;

INSERT INTO event_stream (id, last, pruned) SELECT 1, COALESCE(MAX(position), 0), 0 FROM events;

CREATE UNIQUE INDEX events_by_position ON events (tenant, position);

-- Poll-only subscriptions: like a webhook endpoint without a URL. Change detection records events for their tenant
-- (readable by GET /v1/events and /v1/event-stream); nothing is delivered.
CREATE TABLE event_subscriptions (
  id TEXT PRIMARY KEY,                     -- sub_…
  tenant TEXT NOT NULL,                    -- the API key's id (Caller.keyId) that created it
  description TEXT,
  event_types TEXT,                        -- JSON array of event types; NULL = every type
  sources TEXT NOT NULL,                   -- JSON array of canonical source keys
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX event_subscriptions_by_tenant ON event_subscriptions (tenant, created_at DESC, id DESC);
