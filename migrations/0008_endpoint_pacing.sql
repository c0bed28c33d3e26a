-- Delivery pacing per webhook endpoint (docs/webhooks.md#pacing): at most `rate_limit` deliveries a second (NULL: no
-- rate limit) and at most `max_in_flight` at once. The pacing state itself lives in the endpoint's Durable Object.
ALTER TABLE webhook_endpoints ADD COLUMN rate_limit INTEGER CHECK (rate_limit IS NULL OR rate_limit BETWEEN 1 AND 200);
ALTER TABLE webhook_endpoints ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 10 CHECK (max_in_flight BETWEEN 1 AND 100);
