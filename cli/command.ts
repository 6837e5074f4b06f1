import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { UsageError } from '../engine/errors.ts';
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
  /** Returns the exit code. */
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: Io): Promise<number>;
}

/** Strict parsing: an unknown flag or a missing value is a usage error naming it. */
export function parseCommandArgs(cmd: Command, argv: string[]): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, unknown>, positionals: r.positionals };
  } catch (err) {
    throw new UsageError(`${cmd.name}: ${(err as Error).message.split('\n')[0]}`);
  }
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

/** The step log a command reads: it must exist already (a reader never creates one). */
export function openStepLog(values: Record<string, unknown>, env: NodeJS.ProcessEnv, opts: { readonly?: boolean } = {}): Db {
  const file = dbPath(values, env);
  if (!existsSync(file)) throw new UsageError(`no step log at ${file} (run "callflow simulate" first, or give --db)`);
  return openDatabase(file, opts);
}

/** The one message id a command takes (`12` or `#12`, as lists print them). */
export function messageIdArg(command: string, positionals: readonly string[]): number {
  if (positionals.length !== 1 || !/^#?\d+$/.test(positionals[0]!)) throw new UsageError(`${command}: give one message id`);
  return Number(positionals[0]!.replace('#', ''));
}

/** An option limited to a few values: undefined when absent, else one of `allowed`. */
export function oneOf<T extends string>(command: string, name: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`${command}: --${name} must be one of ${allowed.join(', ')} (got "${String(v)}")`);
  return v as T;
}

export function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number (got "${String(v)}")`);
  return n;
}
