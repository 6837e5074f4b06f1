import Database from 'better-sqlite3';
import { EngineError } from '../../engine/errors.ts';
import { migrations as stepLogMigrations, type Migration } from './migrations.ts';

export type Db = Database.Database;

/** A file written by a newer callflow-engine: its schema has tables or columns this one does not know. */
export class SchemaTooNewError extends EngineError {
  readonly kind = 'schema_too_new';
  constructor(file: string, found: number, known: number) {
    super(`${file}: step log schema version ${found} is newer than this callflow-engine's (${known}): use a newer callflow-engine, or another file`);
    this.name = 'SchemaTooNewError';
  }
}

/** Opens (creating if needed) a SQLite file in WAL mode and brings its schema up to date. */
export function openDatabase(file: string, opts: { readonly?: boolean; migrations?: readonly Migration[] } = {}): Db {
  const db = new Database(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const list = opts.migrations ?? stepLogMigrations;
    if (opts.readonly) {
      refuseNewer(db, list);
      return db;
    }
    enableWal(db);
    // WAL + NORMAL: a commit survives a process crash; only an OS crash may lose the last ones.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, list);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** How long a connection waits for another's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Another connection held the lock past busy_timeout (or SQLite would not wait for it). */
export const isBusy = (err: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code ?? ''));

/**
 * Switching a new file to WAL needs it alone for a moment, and SQLite does not wait for that
 * through busy_timeout: processes creating the same file at once would fail. So wait here, as
 * long as busy_timeout would have.
 */
function enableWal(db: Db): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}

const newestKnown = (list: readonly Migration[]): number => Math.max(0, ...list.map((m) => m.version));

function appliedVersions(db: Db): Set<number> {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get();
  if (!exists) return new Set();
  return new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
}

/** Writing to (or reading) a schema this code does not know would fail, or worse, half-work. */
function refuseNewer(db: Db, list: readonly Migration[]): Set<number> {
  const have = appliedVersions(db);
  const found = Math.max(0, ...have);
  if (found > newestKnown(list)) throw new SchemaTooNewError(db.name, found, newestKnown(list));
  return have;
}

/**
 * Applies the missing migrations, all in one immediate transaction that reads what is applied
 * inside it: two processes opening a new file at once must not both create its tables (the
 * second waits for the first, then finds nothing left to do).
 */
export function migrate(db: Db, list: readonly Migration[]): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const have = refuseNewer(db, list);
    for (const m of [...list].sort((a, b) => a.version - b.version)) {
      if (have.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
  }).immediate();
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}
