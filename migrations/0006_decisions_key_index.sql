-- Per-key export (GET /v1/export for a key without admin) filters on key_id
-- and walks rowid in order. Without an index each page scanned the table
-- from the cursor until it had found `limit` rows of that key, i.e. every
-- other tenant's decisions in between. SQLite appends rowid to every index
-- entry, so (key_id) alone serves `key_id = ? AND rowid > ? ORDER BY rowid`.
CREATE INDEX IF NOT EXISTS decisions_key ON decisions (key_id);
