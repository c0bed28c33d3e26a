-- Webhooks: endpoints and their secrets, the event log, deliveries with every attempt, and change-detection snapshots.

CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,                 -- we_…
  tenant TEXT NOT NULL,                    -- the API key's id (Caller.keyId) that created it
  url TEXT NOT NULL,
  description TEXT,
  event_types TEXT,                        -- JSON array of event types; NULL = every type
  sources TEXT NOT NULL,                   -- JSON array of source keys, e.g. ["inkit:runs", "8x8:acme-ops/<uuid>"]
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  disabled_reason TEXT CHECK (disabled_reason IN ('manual', 'endpoint_gone')),
  created_at TEXT NOT NULL,                -- RFC 3339, UTC, six fractional digits: string order is time order
  updated_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant, created_at DESC, id DESC);

-- Signing secrets, AES-GCM encrypted with a key derived from the WEBHOOK_ENCRYPTION_KEY secret (never stored here).
CREATE TABLE webhook_secrets (
  id TEXT PRIMARY KEY,                     -- whs_…
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  ciphertext TEXT NOT NULL,                -- v1.<base64url iv>.<base64url ciphertext>, bound to endpoint_id
  created_at TEXT NOT NULL,
  expires_at TEXT                          -- NULL while current; set 24 h ahead when rotated out
);
CREATE INDEX webhook_secrets_by_endpoint ON webhook_secrets (endpoint_id, created_at DESC);

-- One row per event and tenant. `payload` holds the exact bytes every delivery sends.
CREATE TABLE events (
  id TEXT PRIMARY KEY,                 -- evt_…, time-ordered
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  source TEXT,                             -- NULL for ping
  object_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  payload TEXT NOT NULL                    -- {"type","timestamp","data":{"object","previous"}}
);
CREATE INDEX events_by_tenant ON events (tenant, created_at DESC, id DESC);

-- The state of one event's delivery to one endpoint.
CREATE TABLE deliveries (
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  generation INTEGER NOT NULL DEFAULT 1,   -- bumped by replay: queue messages of older generations are dropped
  next_attempt INTEGER NOT NULL DEFAULT 1, -- the attempt number the next queue message must carry
  next_attempt_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,     -- attempts made, all generations
  last_status_code INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  delivered_at TEXT,
  PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, status);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

-- Every HTTP attempt, successful or not.
CREATE TABLE delivery_attempts (
  id TEXT PRIMARY KEY,                 -- att_…
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  created_at TEXT NOT NULL,                -- when the request was sent
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,                     -- NULL when no response arrived
  error TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed', 'endpoint_disabled')),
  next_retry_at TEXT
);
CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id, created_at DESC, id DESC);

-- Change detection: the last seen status of each item in each watched source's newest window.
CREATE TABLE snapshots (
  source TEXT NOT NULL,
  item_id TEXT NOT NULL,
  status TEXT NOT NULL,
  provider_status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (source, item_id)
);

-- One row per successful poll of a source. Its primary key is the optimistic lock: two concurrent polls of one
-- source both insert (source, version + 1), so one transaction fails and commits nothing.
CREATE TABLE source_polls (
  source TEXT NOT NULL,
  version INTEGER NOT NULL,
  polled_at TEXT NOT NULL,
  items INTEGER NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (source, version)
);
