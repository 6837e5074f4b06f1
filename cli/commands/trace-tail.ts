import { existsSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import { UsageError } from '../../engine/errors.ts';
import { openDatabase, type Db } from '../../integrations/sqlite/open-database.ts';
import { shortId, type ExecutionRecord } from '../../integrations/sqlite/trace-queries.ts';
import { dbPath, positiveInt, refuseDirectory, stepLogError, type Command, type Io } from '../command.ts';
import { refuseForeign } from '../writable-step-log.ts';
import { printable, seconds, summaryLine } from '../render-trace.ts';

/** How often the step log is read for new rows. */
export const TAIL_POLL_MS = 200;
/** Rows read per query: a long backlog (--from-start) is printed in slices, never loaded at once. */
const BATCH = 2000;

/** A step row as tail reads it, with what it needs of its execution. */
export interface TailStepRow {
  rid: number;
  execution_seq: number;
  execution_id: string;
  execution_started_at: number;
  seq: number;
  callflow_id: string;
  node_path: string;
  module: string;
  outcome: string | null;
  child_key: string | null;
  reason: string | null;
  started_at: number;
}

/** "3f2a9c1e  +20.000s  step 2  user  cf-front-desk/flow/children/_  attempt → "_"  child "_"" */
export function tailStepLine(r: TailStepRow): string {
  return [
    shortId(r.execution_id),
    `+${seconds(r.started_at - r.execution_started_at)}`,
    `step ${r.seq}`,
    printable(r.module),
    `${printable(r.callflow_id)}${printable(r.node_path)}`,
    `${printable(r.outcome ?? 'unfinished')}${r.child_key === null ? '' : ` → "${printable(r.child_key)}"`}`,
    printable(r.reason ?? ''),
  ].join('  ');
}

/** "3f2a9c1e  finished  <id>  <scenario>  completed/stopped  NORMAL_CLEARING by callee  184.000s" */
export function tailFinishedLine(e: ExecutionRecord): string {
  return `${shortId(e.id)}  finished  ${summaryLine(e)}`;
}

interface Statements {
  readonly steps: Statement;
  readonly newExecutions: Statement;
  readonly executionsBySeq: Statement;
  readonly lastStepOf: Statement;
  readonly ends: Statement;
  readonly running: Statement;
}

function prepare(db: Db): Statements {
  return {
    steps: db.prepare(
      `SELECT s.rowid AS rid, s.execution_seq, e.id AS execution_id, e.started_at AS execution_started_at, s.seq,
              s.callflow_id, s.node_path, s.module, s.outcome, s.child_key, s.reason, s.started_at
       FROM steps s JOIN executions e ON e.seq = s.execution_seq
       WHERE s.rowid > ? ORDER BY s.rowid LIMIT ${BATCH}`,
    ),
    newExecutions: db.prepare(`SELECT * FROM executions WHERE seq > ? ORDER BY seq LIMIT ${BATCH}`),
    executionsBySeq: db.prepare('SELECT * FROM executions WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq'),
    lastStepOf: db.prepare('SELECT MAX(rowid) AS m FROM steps WHERE execution_seq = ?'),
    ends: db.prepare('SELECT (SELECT MAX(seq) FROM executions) AS exec, (SELECT MAX(rowid) FROM steps) AS step'),
    running: db.prepare(`SELECT seq FROM executions WHERE status = 'running'`),
  };
}

/**
 * Follows a step log: remembers the last executions.seq and steps rowid it has printed and
 * reads what lies beyond, in one read transaction per poll (a consistent snapshot: an
 * execution's steps and its end are committed together, so its "finished" line always comes
 * after its steps). Executions seen `running` are kept and printed once they end.
 */
export class StepLogFollower {
  private execCursor = 0;
  private stepCursor = 0;
  /** Executions seen but not yet printed as finished: running, or their steps not all printed yet. */
  private readonly pending = new Set<number>();
  private readonly st: Statements;
  private readonly read: <T>(fn: () => T) => T;

  constructor(
    db: Db,
    fromStart: boolean,
    private readonly emit: { step(r: TailStepRow): void; finished(e: ExecutionRecord): boolean },
  ) {
    this.st = prepare(db);
    this.read = (fn) => db.transaction(fn)();
    if (!fromStart) {
      this.read(() => {
        const ends = this.st.ends.get() as { exec: number | null; step: number | null };
        this.execCursor = ends.exec ?? 0;
        this.stepCursor = ends.step ?? 0;
        for (const r of this.st.running.all() as { seq: number }[]) this.pending.add(r.seq);
      });
    }
  }

  /**
   * Prints what was committed since the last poll. Returns whether there is more to read at
   * once (a slice was full) and whether the caller asked to stop (emit.finished returned false).
   */
  poll(): { more: boolean; stop: boolean } {
    return this.read(() => {
      const steps = this.st.steps.all(this.stepCursor) as TailStepRow[];
      const fresh = this.st.newExecutions.all(this.execCursor) as ExecutionRecord[];
      const known = this.pending.size > 0 ? (this.st.executionsBySeq.all(JSON.stringify([...this.pending])) as ExecutionRecord[]) : [];
      const more = steps.length === BATCH || fresh.length === BATCH;
      if (steps.length > 0) this.stepCursor = steps[steps.length - 1]!.rid;
      if (fresh.length > 0) this.execCursor = fresh[fresh.length - 1]!.seq;

      // Ended executions whose every step has been read: ready for their "finished" line.
      const ready = new Map<number, ExecutionRecord>();
      for (const e of [...known, ...fresh]) {
        this.pending.delete(e.seq);
        const last = (this.st.lastStepOf.get(e.seq) as { m: number | null }).m ?? 0;
        if (e.status === 'running' || last > this.stepCursor) this.pending.add(e.seq);
        else ready.set(e.seq, e);
      }
      // An execution's steps, then its end; executions in the order their steps were committed.
      const groups = new Map<number, TailStepRow[]>();
      for (const s of steps) {
        const g = groups.get(s.execution_seq);
        if (g) g.push(s);
        else groups.set(s.execution_seq, [s]);
      }
      for (const [seq, rows] of groups) {
        for (const r of rows) this.emit.step(r);
        const e = ready.get(seq);
        if (e) {
          ready.delete(seq);
          if (!this.emit.finished(e)) return { more, stop: true };
        }
      }
      for (const e of [...ready.values()].sort((a, b) => a.seq - b.seq)) {
        if (!this.emit.finished(e)) return { more, stop: true };
      }
      return { more, stop: false };
    });
  }
}

function parseTimeout(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds (got "${String(v)}")`);
  }
  return n;
}

const missingSchema = (err: unknown): boolean => /no such table/i.test((err as Error).message ?? '');

export const traceTailCommand: Command = {
  name: 'trace tail',
  usage: 'callflow trace tail [--db FILE] [--from-start] [--max-executions N] [--timeout S]',
  summary: 'follow the step log as another process writes it',
  help: `Follows the step log (--db, else $CALLFLOW_DB, else ./callflow.db) that another process
("callflow simulate" or "callflow serve") is writing, and prints each step as soon as its
execution is committed, one line per step:
  <execution id, last 8>  +<time into the call>  step <seq>  <module>  <callflow><node path>  <outcome> → "<child key>"  <reason>
then one line when the execution has ended:
  <execution id, last 8>  finished  <execution id>  <scenario>  <status>/<end reason>  <hangup>  <duration>
The file is opened read-only and read every ${TAIL_POLL_MS} ms; it may not exist yet (tail waits for it, and then
prints everything in it). Simulation batches commit executions in groups, so they appear in groups.
Stops cleanly on Ctrl-C (SIGINT) or SIGTERM, exit code 0.

  --from-start          print what the log already holds first (default: only what comes after)
  --max-executions N    stop after printing N finished executions (scripts and tests)
  --timeout S           stop after S seconds (scripts and tests); exit code 0 either way`,
  options: {
    db: { type: 'string' },
    'from-start': { type: 'boolean' },
    'max-executions': { type: 'string' },
    timeout: { type: 'string' },
  },
  noPositionals: true,
  async run({ values }, io: Io) {
    const file = dbPath(values, io.env);
    const maxExecutions = values['max-executions'] === undefined ? undefined : positiveInt('max-executions', values['max-executions'], 1);
    const timeout = parseTimeout(values.timeout);
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout * 1000;

    let stopped = false;
    let wake: (() => void) | undefined;
    const onSignal = (): void => {
      stopped = true;
      wake?.();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const t = setTimeout(done, Math.max(0, Math.min(ms, deadline - Date.now())));
        function done(): void {
          clearTimeout(t);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    const over = (): boolean => stopped || Date.now() >= deadline;

    let db: Db | undefined;
    let follower: StepLogFollower | undefined;
    let finished = 0;
    // Started before the log existed: everything in it is new.
    let fromStart = Boolean(values['from-start']) || !existsSync(file);
    let waitingSaid = false;
    const emit = {
      step: (r: TailStepRow) => io.out(tailStepLine(r)),
      finished: (e: ExecutionRecord) => {
        io.out(tailFinishedLine(e));
        finished++;
        return maxExecutions === undefined || finished < maxExecutions;
      },
    };
    try {
      while (!over()) {
        if (!follower) {
          // Wait for the file and its schema (a writer may be creating it right now).
          try {
            if (existsSync(file)) {
              refuseDirectory(file);
              db ??= openDatabase(file, { readonly: true });
              follower = new StepLogFollower(db, fromStart, emit);
            }
          } catch (err) {
            if (!missingSchema(err)) throw stepLogError(file, err);
            db?.close();
            db = undefined;
            // No tables yet: a writer may be about to create them. Other tables: another
            // program's database, which no writer will turn into a step log.
            try {
              refuseForeign(file);
            } catch (probeErr) {
              throw stepLogError(file, probeErr);
            }
            fromStart = true;
          }
          if (!follower) {
            if (!waitingSaid) io.err(`trace tail: waiting for a step log at ${printable(file)}`);
            waitingSaid = true;
            fromStart = true;
            await sleep(TAIL_POLL_MS);
            continue;
          }
        }
        const r = follower.poll();
        if (r.stop) break;
        if (!r.more) await sleep(TAIL_POLL_MS);
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      db?.close();
    }
    return 0;
  },
};
