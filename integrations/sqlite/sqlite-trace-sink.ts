import type { Statement } from 'better-sqlite3';
import type { ExecutionEnd, ExecutionRows, ExecutionStart, TraceSink } from '../../engine/trace/rows.ts';
import { isBusy, type Db } from './open-database.ts';
import { processAlive, processTag } from './process-identity.ts';
import { RowWriter } from './row-writer.ts';

export interface SinkOptions {
  /**
   * Group commit: hold finished executions and write this many per transaction (each still
   * whole or absent). For simulation batches, where one commit per call would dominate. 1 (the
   * default) records a `running` row at start and commits each execution as it ends.
   * No transaction is held open across calls: another connection (the outbox worker) committing
   * meanwhile would make every later write here fail (SQLITE_BUSY_SNAPSHOT) and lose the group.
   */
  readonly groupCommit?: number;
  /**
   * Told of each execution that could not be written whole: `incomplete` when only its
   * execution row could say so, `lost` when the database refused even that.
   */
  readonly onWriteError?: (executionId: string, outcome: 'incomplete' | 'lost', problem: string) => void;
}

interface Finished {
  readonly start: ExecutionStart;
  readonly end: ExecutionEnd;
  readonly rows: ExecutionRows;
}

const START_COLUMNS = [
  'id', 'source', 'scenario', 'account_id', 'call_id', 'caller_number', 'caller_name', 'callee_number', 'callflow_id',
  'callflow_name', 'callflow_revision', 'route_by', 'route_pattern', 'capture_group', 'started_at', 'wall_started_at',
] as const;
const END_COLUMNS = [
  'status', 'end_reason', 'ended_at', 'wall_ended_at', 'hangup_by', 'hangup_cause', 'hangup_code', 'disposition',
  'answered', 'call_bridged', 'message_left', 'duration_ms', 'error',
] as const;

const startValues = (s: ExecutionStart): unknown[] => START_COLUMNS.map((c) => s[c]);
const endValues = (e: ExecutionEnd): unknown[] =>
  END_COLUMNS.map((c) => (typeof e[c] === 'boolean' ? (e[c] ? 1 : 0) : e[c]));

/**
 * Writes the step log. `begin` records a `running` execution at once (visible to `trace list`
 * while the call is up); `commit` writes every row of the execution and its end in a single
 * transaction. If that transaction fails, the execution is marked `incomplete` with the reason,
 * and executions a crashed process left `running` are marked `incomplete` when a writer opens
 * (those of a process still running, another writer on the same file, are left alone).
 */
export class SqliteTraceSink implements TraceSink {
  private readonly group: number;
  private readonly writer = processTag('trace');
  private readonly onWriteError: NonNullable<SinkOptions['onWriteError']>;
  private failures = 0;
  private readonly held: Finished[] = [];
  /** Executions begun (a `running` row exists) and not yet committed: id → seq. */
  private readonly begun = new Map<string, number>();
  private readonly insertRunning: Statement;
  private readonly insertFinished: Statement;
  private readonly finishRunning: Statement;
  private readonly markIncomplete: Statement;
  private readonly steps: RowWriter;
  private readonly events: RowWriter;
  private readonly commands: RowWriter;
  private readonly effects: RowWriter;
  private readonly writeOne: (f: Finished) => void;
  private readonly writeMany: (list: readonly Finished[]) => void;
  private readonly recordThen: (write: () => unknown) => unknown;
  private readonly noteUnrecorded: Statement;
  private readonly dropNote: Statement;
  /** Held executions with a note in executions_unrecorded: id → the note's rowid. */
  private readonly noted = new Map<string, number>();

  constructor(db: Db, opts: SinkOptions = {}) {
    this.group = Math.max(1, opts.groupCommit ?? 1);
    this.onWriteError = opts.onWriteError ?? (() => {});
    const abandon = db.prepare(
      `UPDATE executions SET status = 'incomplete', error = 'the process ended before this execution was recorded', writer = NULL
       WHERE id = ? AND status = 'running'`,
    );
    for (const r of db.prepare(`SELECT id, writer FROM executions WHERE status = 'running'`).all() as { id: string; writer: string | null }[]) {
      if (r.writer === null || !processAlive(r.writer)) abandon.run(r.id);
    }
    const marks = (n: number): string => Array(n).fill('?').join(', ');
    this.noteUnrecorded = db.prepare('INSERT INTO executions_unrecorded (execution_id, writer, start) VALUES (?, ?, ?)');
    this.dropNote = db.prepare('DELETE FROM executions_unrecorded WHERE rowid = ?');
    recoverUnrecorded(db, marks);
    this.insertRunning = db.prepare(
      `INSERT INTO executions (${START_COLUMNS.join(', ')}, writer, status) VALUES (${marks(START_COLUMNS.length)}, ?, 'running')`,
    );
    this.insertFinished = db.prepare(
      `INSERT INTO executions (${[...START_COLUMNS, ...END_COLUMNS].join(', ')})
       VALUES (${marks(START_COLUMNS.length + END_COLUMNS.length)})`,
    );
    // `writer` names the process of a running execution only: an ended one has none.
    this.finishRunning = db.prepare(`UPDATE executions SET ${END_COLUMNS.map((c) => `${c} = ?`).join(', ')}, writer = NULL WHERE seq = ?`);
    this.markIncomplete = db.prepare(`UPDATE executions SET status = 'incomplete', error = ?, writer = NULL WHERE id = ?`);
    this.steps = new RowWriter(db, 'steps', [
      'execution_seq', 'seq', 'ord', 'parent_seq', 'callflow_id', 'node_path', 'module', 'data', 'outcome',
      'requested_key', 'child_key', 'reason', 'started_at', 'ended_at', 'duration_ms', 'error_kind', 'error_message', 'notes',
    ]);
    this.events = new RowWriter(db, 'channel_events', ['execution_seq', 'ord', 'at', 'step_seq', 'uuid', 'name', 'headers']);
    this.commands = new RowWriter(db, 'commands', [
      'execution_seq', 'ord', 'at', 'step_seq', 'uuid', 'app', 'args', 'application_uuid', 'ack', 'completed_at',
      'response', 'error_kind',
    ]);
    this.effects = new RowWriter(db, 'effects', [
      'execution_seq', 'ord', 'at', 'step_seq', 'handler_key', 'module', 'status', 'detail', 'error_kind', 'error_message',
    ]);
    const write = (f: Finished): void => {
      const begun = this.begun.get(f.start.id);
      let seq: number;
      if (begun === undefined) {
        seq = Number(this.insertFinished.run([...startValues(f.start), ...endValues(f.end)]).lastInsertRowid);
      } else {
        seq = begun;
        this.finishRunning.run([...endValues(f.end), seq]);
      }
      this.writeRows(seq, f.rows);
      // The map forgets the note once the transaction commits (flush, commitOne): a rolled-back
      // group restores the row, and the retry must still find it to drop it.
      const note = this.noted.get(f.start.id);
      if (note !== undefined) this.dropNote.run(note);
    };
    this.writeOne = db.transaction(write);
    this.writeMany = db.transaction((list: readonly Finished[]) => list.forEach(write));
    this.recordThen = db.transaction((w: () => unknown) => w());
  }

  begin(start: ExecutionStart): void {
    if (this.group > 1) return;
    this.begun.set(start.id, Number(this.insertRunning.run([...startValues(start), this.writer]).lastInsertRowid));
  }

  /**
   * With group commit an execution has no row until its group is written, but its voicemails and
   * messages commit at once: the first of them notes the execution in executions_unrecorded, in
   * the same transaction (the stores' own transactions nest in it), so a crash leaves it to be
   * recorded incomplete by the next writer. Writing the group drops the note.
   */
  durably<T>(start: ExecutionStart, write: () => T): T {
    if (this.group === 1 || this.noted.has(start.id)) return write();
    try {
      return this.recordThen(() => {
        // Known at once: a write inside this one (a voicemail's email, queued in the message's
        // transaction) must not note it again.
        this.noted.set(start.id, Number(this.noteUnrecorded.run(start.id, this.writer, JSON.stringify(start)).lastInsertRowid));
        return write();
      }) as T;
    } catch (err) {
      this.noted.delete(start.id); // rolled back with the rows it went with
      throw err;
    }
  }

  /** Executions that could not be written whole since this sink opened. */
  get writeFailures(): number {
    return this.failures;
  }

  commit(start: ExecutionStart, end: ExecutionEnd, rows: ExecutionRows): void {
    if (this.group === 1) return this.commitOne({ start, end, rows });
    this.held.push({ start, end, rows });
    if (this.held.length >= this.group) this.flush();
  }

  /**
   * Writes every held execution. One that cannot be written is marked incomplete; the others
   * still land. While another process holds the write lock, they stay held for the next flush.
   */
  flush(): void {
    const list = this.held.splice(0);
    if (list.length === 0) return;
    try {
      this.writeMany(list);
      for (const f of list) this.noted.delete(f.start.id);
    } catch (err) {
      if (isBusy(err)) {
        this.held.unshift(...list);
        return;
      }
      for (const f of list) {
        try {
          this.commitOne(f);
        } catch {
          // commitOne marked it incomplete and reported it.
        }
      }
    }
  }

  /** The last flush: whatever still cannot be written is reported, not kept. */
  finish(): void {
    this.flush();
    for (const f of this.held.splice(0)) this.failed(f.start.id, 'lost', 'the database stayed locked by another process');
  }

  private failed(id: string, outcome: 'incomplete' | 'lost', problem: string): void {
    this.failures++;
    this.onWriteError(id, outcome, problem);
  }

  private commitOne(f: Finished): void {
    try {
      this.writeOne(f);
    } catch (err) {
      // Rolled back: no row of this execution is half there. Say so on the execution itself.
      const problem = (err as Error).message;
      try {
        if (!this.begun.has(f.start.id)) this.insertRunning.run([...startValues(f.start), this.writer]);
        this.markIncomplete.run(`step log write failed: ${problem}`, f.start.id);
        this.failed(f.start.id, 'incomplete', problem);
      } catch {
        this.failed(f.start.id, 'lost', problem);
      }
      throw err;
    } finally {
      this.begun.delete(f.start.id);
      this.noted.delete(f.start.id);
    }
  }

  private writeRows(seq: number, rows: ExecutionRows): void {
    const steps: unknown[] = [];
    for (const s of rows.steps) {
      steps.push(
        seq, s.seq, s.ord, s.parent_seq, s.callflow_id, s.node_path, s.module, s.data, s.outcome, s.requested_key,
        s.child_key, s.reason, s.started_at, s.ended_at, s.ended_at === null ? null : s.ended_at - s.started_at,
        s.error_kind, s.error_message, JSON.stringify(s.notes),
      );
    }
    this.steps.insert(steps);
    const events: unknown[] = [];
    for (const e of rows.events) events.push(seq, e.ord, e.at, e.step_seq, e.uuid, e.name, e.headers);
    this.events.insert(events);
    const commands: unknown[] = [];
    for (const c of rows.commands) {
      commands.push(
        seq, c.ord, c.at, c.step_seq, c.uuid, c.app, c.args, c.application_uuid, c.ack, c.completed_at, c.response,
        c.error_kind,
      );
    }
    this.commands.insert(commands);
    const effects: unknown[] = [];
    for (const f of rows.effects) {
      effects.push(seq, f.ord, f.at, f.step_seq, f.handler_key, f.module, f.status, f.detail, f.error_kind, f.error_message);
    }
    this.effects.insert(effects);
  }
}

/**
 * Executions a process that is gone noted as unrecorded (its batch had written their voicemails
 * or messages, not yet them) become incomplete executions, so no kept row is without its
 * execution. Those of a live process (another batch on the same file) are left to it.
 */
function recoverUnrecorded(db: Db, marks: (n: number) => string): void {
  const notes = db.prepare('SELECT rowid AS note, execution_id AS id, writer, start FROM executions_unrecorded').all() as {
    note: number;
    id: string;
    writer: string;
    start: string;
  }[];
  if (notes.length === 0) return;
  const exists = db.prepare('SELECT 1 FROM executions WHERE id = ?');
  const insert = db.prepare(
    `INSERT INTO executions (${START_COLUMNS.join(', ')}, status, error) VALUES (${marks(START_COLUMNS.length)}, 'incomplete', ?)`,
  );
  const drop = db.prepare('DELETE FROM executions_unrecorded WHERE rowid = ?');
  db.transaction(() => {
    for (const n of notes) {
      if (processAlive(n.writer)) continue;
      if (!exists.get(n.id)) {
        insert.run([...startValues(JSON.parse(n.start) as ExecutionStart), 'the process ended before this execution was recorded (its voicemail or messages were kept)']);
      }
      drop.run(n.note);
    }
  })();
}
