-- Checks the upstream account's budget put off (docs/upstream-budget.md): the source's check is already queued for
-- `until` (unix ms), so the cron's ticks send no other until then. Without it, a budget that stays short would gain a
-- queued check per source and tick, each put off again: the schedule stretches instead.
CREATE TABLE detection_deferrals (
  source TEXT PRIMARY KEY,
  until INTEGER NOT NULL
);
