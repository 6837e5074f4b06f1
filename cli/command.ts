import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { accessSync, constants, existsSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../engine/errors.ts';
import { printable } from '../engine/text.ts';
import { openDatabase, type Db } from '../integrations/sqlite/open-database.ts';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly env: NodeJS.ProcessEnv;
  readonly isTty: boolean;
}

export interface Command {
  /** e.g. "trace show" */
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly help: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Takes options only: an argument besides them is a usage error, not silently ignored. */
  readonly noPositionals?: true;
  /** Returns the exit code. */
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: Io): Promise<number>;
}

/** Strict parsing: an unknown flag or a missing value is a usage error naming it. */
export function parseCommandArgs(cmd: Command, argv: string[]): { values: Record<string, unknown>; positionals: string[] } {
  let r;
  try {
    r = parseArgs({ args: negativeValues(cmd, argv), options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${cmd.name}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (cmd.noPositionals && r.positionals.length > 0 && !r.values.help) {
    throw new UsageError(`${cmd.name}: unexpected argument "${printable(r.positionals[0])}"`);
  }
  return { values: r.values as Record<string, unknown>, positionals: r.positionals };
}

/**
 * `--limit -1` as `--limit=-1`: parseArgs takes the "-1" for a flag and stops at "argument is
 * ambiguous", which says nothing of what is wrong. A negative number can only be the value;
 * the option's own check then refuses it in its own words.
 */
function negativeValues(cmd: Command, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if (a.startsWith('--') && cmd.options[a.slice(2)]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** A flag's value, else the environment variable's; empty ones count as not given. */
export const flagOrEnv = (flag: unknown, env: string | undefined): string | undefined =>
  typeof flag === 'string' && flag.length > 0 ? flag : env && env.length > 0 ? env : undefined;

/** Where the step log lives: --db, else $CALLFLOW_DB, else ./callflow.db (read when a command runs, not at import). */
export function dbPath(values: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  return flagOrEnv(values.db, env.CALLFLOW_DB) ?? 'callflow.db';
}

/**
 * Audio lives beside the step log it belongs to: recordings the switch writes (a spool) and the
 * voicemail messages kept from them.
 */
export function mediaDirs(dbFile: string): { recordings: string; voicemail: string } {
  const dir = dirname(resolve(dbFile));
  return { recordings: join(dir, 'recordings'), voicemail: join(dir, 'voicemail') };
}

/**
 * The step log a command reads: it must exist already (a reader never creates one). A --db that
 * is not a step log is a usage error naming the file: SQLite's own words ("file is not a
 * database", "disk I/O error" for a directory, "no such table") say neither which file nor why.
 */
export function openStepLog(values: Record<string, unknown>, env: NodeJS.ProcessEnv, opts: { readonly?: boolean } = {}): Db {
  const file = dbPath(values, env);
  if (!existsSync(file)) throw new UsageError(`no step log at ${printable(file)} (run "callflow simulate" first, or give --db)`);
  refuseDirectory(file);
  // Looked at read-only first: opening for writing would turn an empty SQLite file into a step
  // log, and another program's database into a mix of both, by running the migrations.
  let probe: Db | undefined;
  try {
    probe = openDatabase(file, { readonly: true });
    const tables = probe
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'executions')")
      .all() as { name: string }[];
    if (tables.length < 2) throw new UsageError(`${printable(file)}: not a callflow step log (it has no executions table)`);
    if (opts.readonly) return probe;
    probe.close();
    probe = undefined;
    return openDatabase(file, opts);
  } catch (err) {
    probe?.close();
    throw stepLogError(file, err);
  }
}

/** A directory given as the step log: SQLite would only say "disk I/O error" when first reading it. */
export function refuseDirectory(file: string): void {
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${printable(file)}: is a directory, not a step log`);
}

/**
 * SQLite's error on opening or first reading `file`, as a usage error naming the file when it
 * means the file is not a step log; any other error (a lock, a full disk) is returned unchanged.
 */
export function stepLogError(file: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const reason = printable((err instanceof Error ? err.message : String(err)).split('\n')[0]);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return new UsageError(`${printable(file)}: not a callflow step log (${reason})`);
  if (code === 'SQLITE_CANTOPEN') return new UsageError(`${printable(file)}: cannot open the step log (${reason})`);
  return err;
}

/**
 * The file --html names, checked before any work is done: otherwise a run of every scenario, or
 * the loading of a whole trace, ends in writeFileSync's bare ENOENT or EISDIR.
 */
export function htmlDestination(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const file = String(v);
  if (file === '') throw new UsageError('--html needs a file name');
  // ENOTDIR (a file where a folder should be) is no more use to the reader than ENOENT.
  const stat = (p: string): Stats | undefined => {
    try {
      return statSync(p, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  };
  const dir = dirname(resolve(file));
  const existing = stat(file);
  if (existing?.isDirectory()) throw new UsageError(`--html ${printable(file)}: is a directory`);
  if (!stat(dir)?.isDirectory()) throw new UsageError(`--html ${printable(file)}: folder ${printable(dir)} does not exist`);
  try {
    accessSync(existing ? file : dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`--html ${printable(file)}: cannot write there (${(err as NodeJS.ErrnoException).code ?? 'not writable'})`);
  }
  return file;
}

/** The one message id a command takes (`12` or `#12`, as lists print them). */
export function messageIdArg(command: string, positionals: readonly string[]): number {
  if (positionals.length !== 1 || !/^#?\d+$/.test(positionals[0]!)) throw new UsageError(`${command}: give one message id`);
  const id = Number(positionals[0]!.replace('#', ''));
  // Past 2^53 a number is rounded, so a long id would silently name another message.
  if (!Number.isSafeInteger(id)) throw new UsageError(`${command}: message id ${printable(positionals[0])} is too large (ids go up to ${Number.MAX_SAFE_INTEGER})`);
  return id;
}

/** An option limited to a few values: undefined when absent, else one of `allowed`. */
export function oneOf<T extends string>(command: string, name: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`${command}: --${name} must be one of ${allowed.join(', ')} (got "${String(v)}")`);
  return v as T;
}

/** The longest wait, in seconds, a single setTimeout can make: Node fires a longer one after 1 ms. */
export const MAX_TIMER_S = Math.floor(0x7fffffff / 1000);

/**
 * A whole-number option from 1 to `max`. Safe integers only: 1e20 passes Number.isInteger but
 * is no longer exact, and SQLite refuses it as a LIMIT ("datatype mismatch").
 */
export function positiveInt(name: string, v: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number (got "${printable(v)}")`);
  if (!Number.isSafeInteger(n) || n > max) throw new UsageError(`--${name} must be at most ${max} (got "${printable(v)}")`);
  return n;
}

/** The line a command prints for an execution its step log could not take (SinkOptions.onWriteError). */
export const stepLogWriteFailure = (id: string, outcome: 'incomplete' | 'lost', problem: string): string =>
  `step log: execution ${id} ${outcome === 'lost' ? 'not recorded' : 'recorded as incomplete'}: ${printable(problem)}`;
