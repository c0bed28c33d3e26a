-- Change detection that reads as far as the change goes. The fixed window of `snapshots` (the newest N items of each
-- source) lost the older part of any burst larger than the window, and forgot open items that sank below it. Now
-- each watched listing keeps, per upstream credential:
--   * a frontier: the position in tributary's order of the newest item announced (`*.created`); the next check reads
--     every newer item, oldest first, however many arrived, carrying a backlog from check to check;
--   * the open items it has seen (`watched_items`), watched until terminal, however deep they sink.

CREATE TABLE detection_state (
  source TEXT NOT NULL,                    -- canonical source key, e.g. inkit:runs, 8x8:acme-ops/<definition>
  credential TEXT NOT NULL,                -- whose upstream view: 'configured' (the deployment's own credential)
  frontier_at TEXT,                        -- created_at of the newest announced item; NULL: the listing was empty
  frontier_ids TEXT NOT NULL DEFAULT '[]', -- JSON ids announced at frontier_at (a tie group may be announced in parts)
  hints TEXT NOT NULL DEFAULT '{}',        -- JSON: where the frontier's tie group sat upstream, learned caps
  backlog INTEGER NOT NULL DEFAULT 0,      -- 1 while newer items are left unread: the next check continues
  version INTEGER NOT NULL DEFAULT 0,      -- checks committed; 0 = never checked (the next check is the baseline)
  lease_until INTEGER,                     -- unix ms: one check holds the source until then, so no two overlap
  lease_token TEXT,
  checked_at TEXT,
  PRIMARY KEY (source, credential)
);

-- One row per committed check: its primary key is the optimistic lock (two checks that read the same version both
-- insert version + 1, so one transaction fails and commits nothing), and `lease` must be the lease the check still
-- holds (a check whose lease expired and was taken over inserts NULL there, and commits nothing either). Its figures
-- report what each check did.
CREATE TABLE detection_checks (
  source TEXT NOT NULL,
  credential TEXT NOT NULL,
  version INTEGER NOT NULL,
  checked_at TEXT NOT NULL,
  calls INTEGER NOT NULL,                  -- upstream calls made, retries included
  created INTEGER NOT NULL,                -- new items announced
  events INTEGER NOT NULL,                 -- event rows recorded (one per type and tenant)
  backlog INTEGER NOT NULL,                -- 1 when newer items were left for the next check
  watched INTEGER NOT NULL,                -- open items watched after the check
  lease TEXT NOT NULL,
  PRIMARY KEY (source, credential, version)
);

-- Items seen by detection. Open ones (`open` = 1) are read again by every check until they are terminal (or pass the
-- watch horizon, or vanish upstream). Terminal ones stay until the horizon too, but are read again only when an
-- inbound push names them, so a change after a terminal state that an upstream announces is still reported.
CREATE TABLE watched_items (
  source TEXT NOT NULL,
  credential TEXT NOT NULL,
  item_id TEXT NOT NULL,
  status TEXT NOT NULL,                    -- normalized
  provider_status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  version TEXT,                            -- 8x8: the definition version the instance runs on
  object TEXT,                             -- the normalized item as last seen (JSON); NULL for rows carried over below
  seen_at TEXT NOT NULL,                   -- when detection first saw it open: the watch horizon counts from here
  checked_at TEXT NOT NULL,                -- when its state was last read upstream (round-robin of per-item lookups)
  open INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1)),
  PRIMARY KEY (source, credential, item_id)
);
CREATE INDEX watched_items_by_check ON watched_items (source, credential, open, checked_at);

-- Carried over from the windows: every source keeps its place (the newest item it announced) and its open items.
INSERT INTO detection_state (source, credential, frontier_at, frontier_ids, version, checked_at)
SELECT f.source, 'configured', f.frontier,
       (SELECT json_group_array(t.item_id) FROM snapshots t WHERE t.source = f.source AND t.created_at = f.frontier),
       1, f.frontier
FROM (SELECT source, MAX(created_at) AS frontier FROM snapshots GROUP BY source) AS f;

INSERT INTO watched_items (source, credential, item_id, status, provider_status, created_at, seen_at, checked_at)
SELECT source, 'configured', item_id, status, provider_status, created_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ''
FROM snapshots WHERE status NOT IN ('completed', 'failed', 'terminated');

DROP TABLE snapshots;
DROP TABLE source_polls;
