-- Saved feeds (POST /v1/feeds): a named, immutable set of merged-feed sources, so a walk of GET /v1/runs over up to
-- 100 sources takes one `feed=` parameter instead of 100 `source=` ones. A feed never changes after it is created (a
-- walk's cursors name it and a digest of its sources); it can only be deleted, which ends the walks over it.

CREATE TABLE feeds (
  id TEXT PRIMARY KEY,                     -- feed_… (time-ordered, like every id)
  tenant TEXT NOT NULL,                    -- the API key's id (Caller.keyId) that created it; no other key sees it
  description TEXT,
  sources TEXT NOT NULL,                   -- JSON array of canonical feed sources (`inkit`, `8x8:{account}/{definition}`)
  created_at TEXT NOT NULL                 -- RFC 3339, UTC, six fractional digits: string order is time order
);
CREATE INDEX feeds_by_tenant ON feeds (tenant, created_at DESC, id DESC);
