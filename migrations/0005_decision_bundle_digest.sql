-- The exact bundle behind each decision (issue 19): bundle_id names a build,
-- but an alias can point the same id at different bytes over time; the sha256
-- of the serving bundle's manifest.json pins what actually chose. Exported
-- with each decision and carried into pulled rows (logged.bundle_sha256).
-- Rows logged before this migration keep NULL.
ALTER TABLE decisions ADD COLUMN bundle_sha256 TEXT;
