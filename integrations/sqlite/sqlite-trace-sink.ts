import type { Statement } from 'better-sqlite3';
import type { ExecutionEnd, ExecutionRows, ExecutionStart, TraceSink } from '../../engine/trace/rows.ts';
import type { Db } from './open-database.ts';
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
 * and executions a crashed process left `running` are marked `incomplete` when a writer opens.
 */
export class SqliteTraceSink implements TraceSink {
  private readonly group: number;
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

  constructor(db: Db, opts: SinkOptions = {}) {
    this.group = Math.max(1, opts.groupCommit ?? 1);
    db.prepare(
      `UPDATE executions SET status = 'incomplete', error = 'the process ended before this execution was recorded'
       WHERE status = 'running'`,
    ).run();
    const marks = (n: number): string => Array(n).fill('?').join(', ');
    this.insertRunning = db.prepare(
      `INSERT INTO executions (${START_COLUMNS.join(', ')}, status) VALUES (${marks(START_COLUMNS.length)}, 'running')`,
    );
    this.insertFinished = db.prepare(
      `INSERT INTO executions (${[...START_COLUMNS, ...END_COLUMNS].join(', ')})
       VALUES (${marks(START_COLUMNS.length + END_COLUMNS.length)})`,
    );
    this.finishRunning = db.prepare(`UPDATE executions SET ${END_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE seq = ?`);
    this.markIncomplete = db.prepare(`UPDATE executions SET status = 'incomplete', error = ? WHERE id = ?`);
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
    };
    this.writeOne = db.transaction(write);
    this.writeMany = db.transaction((list: readonly Finished[]) => list.forEach(write));
  }

  begin(start: ExecutionStart): void {
    if (this.group > 1) return;
    this.begun.set(start.id, Number(this.insertRunning.run(startValues(start)).lastInsertRowid));
  }

  commit(start: ExecutionStart, end: ExecutionEnd, rows: ExecutionRows): void {
    if (this.group === 1) return this.commitOne({ start, end, rows });
    this.held.push({ start, end, rows });
    if (this.held.length >= this.group) this.flush();
  }

  /** Writes every held execution. One that cannot be written is marked incomplete; the others still land. */
  flush(): void {
    const list = this.held.splice(0);
    if (list.length === 0) return;
    try {
      this.writeMany(list);
    } catch {
      for (const f of list) {
        try {
          this.commitOne(f);
        } catch {
          // commitOne marked it incomplete.
        }
      }
    }
  }

  private commitOne(f: Finished): void {
    try {
      this.writeOne(f);
    } catch (err) {
      // Rolled back: no row of this execution is half there. Say so on the execution itself.
      try {
        if (!this.begun.has(f.start.id)) this.insertRunning.run(startValues(f.start));
        this.markIncomplete.run(`step log write failed: ${(err as Error).message}`, f.start.id);
      } catch {
        // The database itself is unusable; the caller logs the original error.
      }
      throw err;
    } finally {
      this.begun.delete(f.start.id);
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
