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

describe('executions_unrecorded after a rolled-back kept write', () => {
  it('a kept write that failed (its note rolled back) notes the execution again when it is retried', () => {
    const db = openDatabase(join(tempDir(), 'log.db'));
    const sink = new SqliteTraceSink(db, { groupCommit: 2 });
    const notes = (id: string) => db.prepare('SELECT execution_id FROM executions_unrecorded WHERE execution_id = ?').all(id);
    // The voicemail's own write fails: its transaction, with the note, is rolled back.
    expect(() =>
      sink.durably(start('a'), () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(notes('a')).toEqual([]);
    // Another execution's kept write meanwhile (it may take the rolled-back note's rowid).
    sink.durably(start('b'), () => undefined);
    // The retry keeps its rows: the execution must be noted again, or a crash before the group
    // is written would leave those rows without any execution.
    expect(sink.durably(start('a'), () => 'kept')).toBe('kept');
    expect(notes('a')).toEqual([{ execution_id: 'a' }]);
    expect(notes('b')).toEqual([{ execution_id: 'b' }]);
    // Writing 'a' drops its own note, not 'b''s.
    sink.commit(start('a'), end, rows);
    sink.commit(start('c'), end, rows);
    expect(notes('a')).toEqual([]);
    expect(notes('b')).toEqual([{ execution_id: 'b' }]);
  });
});
