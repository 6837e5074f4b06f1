import type { Db } from './open-database.ts';

export interface ExecutionRecord {
  seq: number;
  id: string;
  source: string;
  scenario: string | null;
  account_id: string;
  call_id: string;
  caller_number: string;
  caller_name: string;
  callee_number: string;
  callflow_id: string | null;
  callflow_name: string | null;
  callflow_revision: string | null;
  route_by: string | null;
  route_pattern: string | null;
  capture_group: string | null;
  started_at: number;
  ended_at: number | null;
  wall_started_at: number;
  wall_ended_at: number | null;
  status: string;
  end_reason: string | null;
  hangup_by: string | null;
  hangup_cause: string | null;
  hangup_code: string | null;
  disposition: string | null;
  answered: number | null;
  call_bridged: number | null;
  message_left: number | null;
  duration_ms: number | null;
  error: string | null;
}

export type TimelineRow =
  | { kind: 'step'; ord: number; at: number; row: Record<string, unknown> }
  | { kind: 'event'; ord: number; at: number; row: Record<string, unknown> }
  | { kind: 'command'; ord: number; at: number; row: Record<string, unknown> }
  | { kind: 'effect'; ord: number; at: number; row: Record<string, unknown> };

export interface ExecutionDetail {
  readonly execution: ExecutionRecord;
  readonly steps: Record<string, unknown>[];
  readonly events: Record<string, unknown>[];
  readonly commands: Record<string, unknown>[];
  readonly effects: Record<string, unknown>[];
  /** Messages this execution queued, each with its delivery attempts. */
  readonly messages: (Record<string, unknown> & { attempts_detail: Record<string, unknown>[] })[];
}

export function listExecutions(db: Db, opts: { limit: number }): ExecutionRecord[] {
  return db.prepare('SELECT * FROM executions ORDER BY seq DESC LIMIT ?').all(opts.limit) as ExecutionRecord[];
}

/**
 * The short form of an execution id that `trace tail` and page titles show: its last characters.
 * Execution ids are time-ordered (v7 uuids), so their first characters are the same for every
 * execution of the same minute; the last ones are random.
 */
export const shortId = (id: string): string => id.slice(-8);

/** Finds one execution by its id, or a unique prefix or suffix of it (such as its short form). */
export function findExecution(db: Db, idOrPart: string): { ok: true; execution: ExecutionRecord } | { ok: false; problem: string } {
  const part = idOrPart.replace(/[\\%_]/g, (c) => '\\' + c);
  const rows = db
    .prepare(`SELECT * FROM executions WHERE id = ? OR id LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\' ORDER BY seq LIMIT 2`)
    .all(idOrPart, `${part}%`, `%${part}`) as ExecutionRecord[];
  const exact = rows.find((r) => r.id === idOrPart);
  if (exact) return { ok: true, execution: exact };
  if (rows.length === 0) return { ok: false, problem: `no execution "${idOrPart}"` };
  if (rows.length > 1) return { ok: false, problem: `"${idOrPart}" matches more than one execution: give more of the id` };
  return { ok: true, execution: rows[0]! };
}

export function loadExecution(db: Db, execution: ExecutionRecord): ExecutionDetail {
  const by = (table: string, order: string): Record<string, unknown>[] =>
    db.prepare(`SELECT * FROM ${table} WHERE execution_seq = ? ORDER BY ${order}`).all(execution.seq) as Record<string, unknown>[];
  return {
    execution,
    steps: by('steps', 'seq'),
    events: by('channel_events', 'ord'),
    commands: by('commands', 'ord'),
    effects: by('effects', 'ord'),
    messages: (db.prepare('SELECT * FROM outbox WHERE execution_id = ? ORDER BY id').all(execution.id) as Record<string, unknown>[]).map(
      (m) => ({
        ...m,
        attempts_detail: db.prepare('SELECT * FROM outbox_attempts WHERE outbox_id = ? ORDER BY attempt').all(m.id) as Record<string, unknown>[],
      }),
    ),
  };
}

/** Every row of an execution in the order it happened. */
export function timeline(d: ExecutionDetail): TimelineRow[] {
  const rows: TimelineRow[] = [
    ...d.steps.map((row) => ({ kind: 'step' as const, ord: row.ord as number, at: row.started_at as number, row })),
    ...d.events.map((row) => ({ kind: 'event' as const, ord: row.ord as number, at: row.at as number, row })),
    ...d.commands.map((row) => ({ kind: 'command' as const, ord: row.ord as number, at: row.at as number, row })),
    ...d.effects.map((row) => ({ kind: 'effect' as const, ord: row.ord as number, at: row.at as number, row })),
  ];
  return rows.sort((a, b) => a.ord - b.ord);
}
