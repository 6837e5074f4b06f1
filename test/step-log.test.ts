import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion } from '../integrations/sqlite/open-database.ts';
import { migrations } from '../integrations/sqlite/migrations.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import type { ExecutionStart } from '../engine/trace/rows.ts';
import { account, callflow, simulate, tempDir } from './support/sim.ts';

const userFlow = { module: 'user', data: { id: 'alice', timeout: 5 }, children: { _: { module: 'test_continue', data: {} } } };
const plainFlow = { module: 'test_answer', data: {} };

const start = (id: string): ExecutionStart => ({
  id, source: 'test', scenario: null, account_id: 'a', call_id: 'c', caller_number: '1', caller_name: '1', callee_number: '2',
  callflow_id: null, callflow_name: null, callflow_revision: null, route_by: null, route_pattern: null, capture_group: null,
  started_at: 0, wall_started_at: 0,
});

describe('SQLite step log', () => {
  it('is WAL, versioned by migrations, and reopens without re-applying them', () => {
    const file = join(tempDir(), 'log.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(db)).toBe(migrations.at(-1)!.version);
    db.close();
    const again = openDatabase(file);
    expect((again.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(migrations.length);
  });

  it('records every kind of row for a call, tied to the step that caused it', async () => {
    const r = await simulate({ account: account([callflow('main', userFlow, ['100'])]), scenario: { call: { from: '1', to: '100' } } });
    const e = r.detail.execution;
    expect(e).toMatchObject({ status: 'completed', callflow_id: 'main', caller_number: '1', callee_number: '100', hangup_by: 'engine' });
    expect(e.callflow_revision).toMatch(/^[0-9a-f]{16}$/);
    expect(e.ended_at! - e.started_at).toBe(5000);
    const bridge = r.detail.commands.find((c) => c.app === 'bridge')!;
    expect(bridge.step_seq).toBe(1);
    expect(bridge.completed_at! as number).toBe(e.started_at + 5000);
    const complete = r.detail.events.find((x) => x.name === 'CHANNEL_EXECUTE_COMPLETE')!;
    expect(JSON.parse(complete.headers as string)['Application-UUID']).toBe(bridge.application_uuid);
    expect(r.detail.steps[0]).toMatchObject({ duration_ms: 5000, node_path: '/flow', module: 'user' });
    expect(JSON.parse(r.detail.steps[0]!.data as string)).toMatchObject({ id: 'alice', timeout: 5, strategy: 'simultaneous' });
  });

  it('an execution whose rows cannot all be written is marked incomplete, with no partial rows; the next call still records', async () => {
    const dir = tempDir();
    const dbFile = join(dir, 'log.db');
    const db = openDatabase(dbFile);
    db.exec(`CREATE TRIGGER refuse_bridge BEFORE INSERT ON commands WHEN NEW.app = 'bridge'
             BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    db.close();
    const bad = await simulate({ account: account([callflow('main', userFlow, ['100'])]), scenario: { call: { from: '1', to: '100' } }, dir, dbFile });
    expect(bad.detail.execution.status).toBe('incomplete');
    expect(bad.detail.execution.error).toContain('disk says no');
    expect(bad.detail.steps).toHaveLength(0);
    expect(bad.detail.events).toHaveLength(0);
    const good = await simulate({ account: account([callflow('main', plainFlow, ['100'])]), scenario: { call: { from: '1', to: '100' }, seed: 2 }, dir, dbFile });
    expect(good.detail.execution.error).toBeNull();
    expect(good.detail.execution.status).toBe('completed');
    expect(good.detail.steps).toHaveLength(1);
  });

  it('executions a crashed process left running are marked incomplete when a writer opens the file', () => {
    const file = join(tempDir(), 'log.db');
    const sink = new SqliteTraceSink(openDatabase(file));
    sink.begin(start('crashed-mid-call'));
    const db = openDatabase(file);
    expect((db.prepare("SELECT status FROM executions WHERE id = 'crashed-mid-call'").get() as { status: string }).status).toBe('running');
    new SqliteTraceSink(db);
    const row = db.prepare("SELECT status, error FROM executions WHERE id = 'crashed-mid-call'").get() as { status: string; error: string };
    expect(row).toEqual({ status: 'incomplete', error: 'the process ended before this execution was recorded' });
  });

  it('group commit writes whole executions only, and flush lands the rest', async () => {
    const db = openDatabase(join(tempDir(), 'log.db'));
    const sink = new SqliteTraceSink(db, { groupCommit: 3 });
    const end = {
      status: 'completed' as const, end_reason: 'stopped' as const, ended_at: 1, wall_ended_at: 1, hangup_by: null, hangup_cause: null,
      hangup_code: null, disposition: null, answered: false, call_bridged: false, message_left: false, duration_ms: null, error: null,
    };
    const rows = { steps: [], events: [], commands: [], effects: [] };
    const count = () => (db.prepare('SELECT COUNT(*) AS n FROM executions').get() as { n: number }).n;
    for (const id of ['a', 'b']) sink.commit(start(id), end, rows);
    expect(count()).toBe(0);
    sink.commit(start('c'), end, rows);
    expect(count()).toBe(3);
    sink.commit(start('d'), end, rows);
    sink.flush();
    expect(count()).toBe(4);
  });
});

describe('group commit', () => {
  it('holds no transaction between calls: another connection may commit meanwhile and this one still writes', async () => {
    const { OutboxStore } = await import('../integrations/sqlite/outbox-store.ts');
    const file = join(tempDir(), 'g.db');
    const db = openDatabase(file);
    const other = openDatabase(file);
    const sink = new SqliteTraceSink(db, { groupCommit: 10 });
    sink.begin(start('g1'));
    expect(db.inTransaction).toBe(false);
    const sms = (key: string) => [{ idempotencyKey: key, medium: 'sms' as const, recipient: '+15550001', templateId: 't', nodeKey: 'n', sms: { body: 'x' } }];
    new OutboxStore(other, Date).enqueue('w', 0, sms('k-other'));
    expect(new OutboxStore(db, Date).enqueue('g1', 0, sms('k1'))[0]!.duplicate).toBe(false);
    expect((other.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(2);
  });
});
