-- Connections: a tenant's own upstream accounts (POST /v1/connections). A source read through one is written
-- `…@conn_…`, and listings, feeds and change detection read it with the connection's credential. The credential is
-- write-only: it is kept only sealed (AES-256-GCM under CONNECTION_ENCRYPTION_KEYS, with the tenant and the connection
-- id as additional data, so a sealed value copied to another row does not open), and a deleted connection keeps its
-- row without it, so cursors and feeds that name it can say why they end.

CREATE TABLE connections (
  id TEXT PRIMARY KEY,                     -- conn_… (time-ordered, like every id)
  tenant TEXT NOT NULL,                    -- the API key's id that created it; no other key sees it
  provider TEXT NOT NULL,                  -- inkit | 8x8
  account_id TEXT,                         -- 8x8: the account the key belongs to; null for Inkit
  name TEXT,
  status TEXT NOT NULL,                    -- active | invalid | deleted
  sealed TEXT,                             -- `<key id>.<iv>.<ciphertext>`; null once deleted
  key_id TEXT,                             -- the key that sealed it (re-sealing finds older ones by it)
  last_error TEXT,                         -- why it became invalid, or the last failed test; never the credential
  last_used_at TEXT,                       -- when a listing or a check last read with it (kept to the minute)
  status_changed_at TEXT NOT NULL,
  created_at TEXT NOT NULL,                -- RFC 3339, UTC, six fractional digits: string order is time order
  updated_at TEXT NOT NULL
);
CREATE INDEX connections_by_tenant ON connections (tenant, created_at DESC, id DESC);
CREATE INDEX connections_by_key ON connections (key_id) WHERE sealed IS NOT NULL;

-- Every change of a connection's status, in the transaction that makes it and records its event. Its first row
-- is the guard: `from_status` reads the connection's status only while it is still the one the change started from
-- (and no other event of the connection was numbered since), so of two concurrent changes exactly one commits, and a
-- connection reports `connection.invalid` once however many reads were refused at the same time.
CREATE TABLE connection_transitions (
  connection_id TEXT NOT NULL,
  at TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  reason TEXT,
  PRIMARY KEY (connection_id, at)
);
