-- Bundles outside the code (issue 19): named aliases that point at a bundle
-- published to R2 under bundles/<manifest_sha256>/ (src/core/bundle-ref.ts).
-- bundle_aliases holds the current target of each alias; alias_events is the
-- append-only history of every change (who and when), never updated or
-- deleted, so the dashboard and an audit can show what served when.
CREATE TABLE IF NOT EXISTS bundle_aliases (
  alias           TEXT PRIMARY KEY,
  manifest_sha256 TEXT NOT NULL,
  bundle_id       TEXT NOT NULL,
  updated_at      INTEGER NOT NULL,
  updated_by      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alias_events (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  alias           TEXT NOT NULL,
  manifest_sha256 TEXT NOT NULL,
  bundle_id       TEXT NOT NULL,
  previous_sha256 TEXT,
  updated_at      INTEGER NOT NULL,
  updated_by      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alias_events_alias ON alias_events (alias, seq);
