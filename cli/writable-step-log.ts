import { statSync } from 'node:fs';
import { UsageError } from '../engine/errors.ts';
import { printable } from '../engine/text.ts';
import { openDatabase, type Db } from '../integrations/sqlite/open-database.ts';
import { refuseDirectory, stepLogError } from './command.ts';

/**
 * The step log a command writes (simulate, coverage, serve): created when the file does not exist
 * or is empty. As for the readers (openStepLog), a --db that is not a step log is a usage error
 * naming the file, not SQLite's bare words; and another program's database is left as it was,
 * not given the step log's tables by the migrations.
 */
export function openStepLogToWrite(file: string): Db {
  refuseDirectory(file);
  try {
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 0) refuseForeign(file);
    return openDatabase(file);
  } catch (err) {
    throw stepLogError(file, err);
  }
}

/** A SQLite file with tables, but not the step log's (read-only: nothing is written to it). */
export function refuseForeign(file: string): void {
  const probe = openDatabase(file, { readonly: true });
  try {
    const tables = new Set((probe.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    if (tables.size > 0 && !(tables.has('schema_migrations') && tables.has('executions'))) {
      throw new UsageError(`${printable(file)}: not a callflow step log (it has no executions table)`);
    }
  } finally {
    probe.close();
  }
}
