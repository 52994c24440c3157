/**
 * Bundle aliases on D1 (migrations/0004_bundle_aliases.sql): the current
 * target of each alias and the append-only history of changes. Shared by the
 * runtime (reads, to resolve an alias to a manifest digest) and the admin
 * alias route and dashboard (writes and history). Must not fetch bundles,
 * check scopes or validate request bodies.
 */
import { AliasRecord } from "../core/bundle-ref.js";

/** One change of an alias, newest first when listed. */
export interface AliasEvent extends AliasRecord {
  seq: number;
  previous_sha256: string | null;
}

const COLS = "alias, manifest_sha256, bundle_id, updated_at, updated_by";

/** Every alias's current target (a handful of rows: aliases are names, not history). */
export async function readAliases(db: D1Database): Promise<AliasRecord[]> {
  const res = await db.prepare(`SELECT ${COLS} FROM bundle_aliases ORDER BY alias`).all<AliasRecord>();
  return res.results.map((r) => AliasRecord.parse(r));
}

export async function readAlias(db: D1Database, alias: string): Promise<AliasRecord | null> {
  const row = await db.prepare(`SELECT ${COLS} FROM bundle_aliases WHERE alias = ?`).bind(alias).first<AliasRecord>();
  return row ? AliasRecord.parse(row) : null;
}

/**
 * Points `rec.alias` at a digest and appends the change to the history, in one
 * batch (both or neither). The event reads the previous digest inside the
 * same batch, before the upsert, so two concurrent writers cannot both claim
 * the same predecessor. Returns the previous digest (null for a new alias).
 */
export async function writeAlias(db: D1Database, rec: AliasRecord): Promise<string | null> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO alias_events (alias, manifest_sha256, bundle_id, previous_sha256, updated_at, updated_by)
         VALUES (?, ?, ?, (SELECT manifest_sha256 FROM bundle_aliases WHERE alias = ?), ?, ?)`,
      )
      .bind(rec.alias, rec.manifest_sha256, rec.bundle_id, rec.alias, rec.updated_at, rec.updated_by),
    db
      .prepare(
        `INSERT INTO bundle_aliases (${COLS}) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (alias) DO UPDATE SET manifest_sha256 = excluded.manifest_sha256, bundle_id = excluded.bundle_id,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      )
      .bind(rec.alias, rec.manifest_sha256, rec.bundle_id, rec.updated_at, rec.updated_by),
  ]);
  const ev = await db
    .prepare("SELECT previous_sha256 FROM alias_events WHERE alias = ? ORDER BY seq DESC LIMIT 1")
    .bind(rec.alias)
    .first<{ previous_sha256: string | null }>();
  return ev?.previous_sha256 ?? null;
}

/** The newest `limit` alias changes (all aliases, or one), newest first. */
export async function aliasHistory(db: D1Database, limit: number, alias?: string): Promise<AliasEvent[]> {
  const where = alias ? "WHERE alias = ?" : "";
  const stmt = db.prepare(`SELECT seq, ${COLS}, previous_sha256 FROM alias_events ${where} ORDER BY seq DESC LIMIT ?`);
  const res = await (alias ? stmt.bind(alias, limit) : stmt.bind(limit)).all<AliasEvent>();
  return res.results;
}
