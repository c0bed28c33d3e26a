-- An 8x8 check reads its open watched items a segment at a time, in start-time order from where the last segment ended
-- (src/detection/store.ts, `RowShare`): this index serves that order without sorting every open row.
CREATE INDEX watched_items_by_start ON watched_items (source, credential, open, created_at, item_id);
