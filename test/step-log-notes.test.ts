import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import type { ExecutionStart } from '../engine/trace/rows.ts';
import { tempDir } from './support/sim.ts';

const start = (id: string): ExecutionStart => ({
  id, source: 'test', scenario: null, account_id: 'a', call_id: 'c', caller_number: '1', caller_name: '1', callee_number: '2',
  callflow_id: null, callflow_name: null, callflow_revision: null, route_by: null, route_pattern: null, capture_group: null,
  started_at: 0, wall_started_at: 0,
});
const end = {
  status: 'completed' as const, end_reason: 'stopped' as const, ended_at: 1, wall_ended_at: 1, hangup_by: null, hangup_cause: null,
  hangup_code: null, disposition: null, answered: false, call_bridged: false, message_left: false, duration_ms: null, error: null,
};
const rows = { steps: [], events: [], commands: [], effects: [] };

describe('executions_unrecorded', () => {
  it('a noted execution written after its group was rolled back leaves no note (README: "gone once the group is written")', () => {
    const db = openDatabase(join(tempDir(), 'log.db'));
    const sink = new SqliteTraceSink(db, { groupCommit: 2 });
    // 'dup' already has a row, so the group [a, dup] fails on dup and each is written on its own.
    new SqliteTraceSink(db).commit(start('dup'), end, rows);
    sink.durably(start('a'), () => undefined);
    sink.commit(start('a'), end, rows);
    sink.commit(start('dup'), end, rows);
    expect((db.prepare("SELECT status FROM executions WHERE id = 'a'").get() as { status: string }).status).toBe('completed');
    expect(db.prepare("SELECT execution_id FROM executions_unrecorded WHERE execution_id = 'a'").all()).toEqual([]);
  });
});
