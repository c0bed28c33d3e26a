-- Idempotency-Key on every POST of the API (draft-ietf-httpapi-idempotency-key-header). A key is scoped to the API
-- key that sent it and to the operation; the first request claims it, and a repeat within 24 hours gets the first
-- answer again instead of running the operation twice. Only answers of operations that took effect (2xx) are kept:
-- an error releases the key, since nothing was written.

CREATE TABLE idempotency_keys (
  tenant TEXT NOT NULL,                    -- the API key's id (Caller.keyId)
  operation TEXT NOT NULL,                 -- the OpenAPI operationId, e.g. createWebhookEndpoint
  idempotency_key TEXT NOT NULL,           -- as sent: 1..255 printable ASCII characters
  fingerprint TEXT NOT NULL,               -- hex SHA-256 of what the operation reads: path parameters and JSON body
  token TEXT NOT NULL,                     -- the claim of the request running the operation; only it records the answer
  locked_until TEXT,                       -- while running: then a repeat of the same request may take the key over
  status INTEGER,                          -- the answer's status; NULL while the first request is still running
  headers TEXT,                            -- JSON object of the answer's headers a replay repeats (Content-Type, Location)
  body TEXT,                               -- the answer's body: v1.<iv>.<ciphertext> (AES-GCM) when sealed = 1
  sealed INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1)),
  created_at TEXT NOT NULL,                -- RFC 3339, UTC, six fractional digits: string order is time order
  expires_at TEXT NOT NULL,                -- created_at + 24 h: the key is free again, and the cron deletes the row
  PRIMARY KEY (tenant, operation, idempotency_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
