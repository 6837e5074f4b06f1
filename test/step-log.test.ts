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

  it('executions a crashed process left running are marked incomplete when a writer opens the file', async () => {
    const file = join(tempDir(), 'log.db');
    // A process that begins an execution and dies before it ends.
    const { spawnSync } = await import('node:child_process');
    const script = `const { openDatabase } = await import('./integrations/sqlite/open-database.ts');
      const { SqliteTraceSink } = await import('./integrations/sqlite/sqlite-trace-sink.ts');
      new SqliteTraceSink(openDatabase(${JSON.stringify(file)})).begin(${JSON.stringify(start('crashed-mid-call'))});
      process.kill(process.pid, 'SIGKILL');`;
    expect(spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]).signal).toBe('SIGKILL');
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

describe('the step log file, shared and kept', () => {
  const end = {
    status: 'completed' as const, end_reason: 'stopped' as const, ended_at: 1, wall_ended_at: 1, hangup_by: null, hangup_cause: null,
    hangup_code: null, disposition: null, answered: false, call_bridged: false, message_left: false, duration_ms: null, error: null,
  };
  const rows = { steps: [], events: [], commands: [], effects: [] };

  it('a file from a newer schema is refused, naming the file and both versions, for writing and for reading', () => {
    const file = join(tempDir(), 'new.db');
    const db = openDatabase(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)").run();
    db.close();
    const known = migrations.at(-1)!.version;
    const message = `${file}: step log schema version 99 is newer than this callflow-engine's (${known}): use a newer callflow-engine, or another file`;
    expect(() => openDatabase(file)).toThrow(message);
    expect(() => openDatabase(file, { readonly: true })).toThrow(message);
  });

  it('processes creating the same new file at once all succeed: the migrations are applied once', async () => {
    const { spawn } = await import('node:child_process');
    // Each process loads the code, then waits for the same instant to open the file.
    const open = (file: string, at: number) =>
      new Promise<number | null>((resolve) => {
        const script = `const { openDatabase } = await import('./integrations/sqlite/open-database.ts');
          while (Date.now() < ${at});
          openDatabase(${JSON.stringify(file)}).close();`;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
        child.on('close', resolve);
      });
    for (let round = 0; round < 4; round++) {
      const file = join(tempDir(), 'shared.db');
      const at = Date.now() + 2500;
      expect(await Promise.all([open(file, at), open(file, at), open(file, at), open(file, at)])).toEqual([0, 0, 0, 0]);
      const db = openDatabase(file);
      expect((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(migrations.length);
      db.close();
    }
  }, 60_000);

  it("a writer opening the file leaves another live process's running executions alone", () => {
    const file = join(tempDir(), 'log.db');
    const live = new SqliteTraceSink(openDatabase(file));
    live.begin(start('live-call'));
    const db = openDatabase(file);
    // A row of a process that is gone: pid 1 runs, but it did not start at tick 1.
    db.prepare(`UPDATE executions SET id = 'dead-call', writer = '1:1:trace' WHERE id = 'live-call'`).run();
    live.begin(start('live-call'));
    new SqliteTraceSink(db);
    const status = (id: string) => (db.prepare('SELECT status FROM executions WHERE id = ?').get(id) as { status: string }).status;
    expect([status('live-call'), status('dead-call')]).toEqual(['running', 'incomplete']);
    live.commit(start('live-call'), end, rows);
    expect(status('live-call')).toBe('completed');
  });

  it('group commit: while another process holds the write lock, finished executions stay held and land at the next flush', () => {
    const file = join(tempDir(), 'log.db');
    const db = openDatabase(file);
    db.pragma('busy_timeout = 50');
    const other = openDatabase(file);
    const reported: string[] = [];
    const sink = new SqliteTraceSink(db, { groupCommit: 3, onWriteError: (id, outcome) => reported.push(`${id} ${outcome}`) });
    const count = () => (other.prepare('SELECT COUNT(*) AS n FROM executions').get() as { n: number }).n;
    other.exec('BEGIN IMMEDIATE');
    for (const id of ['a', 'b', 'c']) sink.commit(start(id), end, rows);
    other.exec('COMMIT');
    expect(count()).toBe(0);
    sink.flush();
    expect(count()).toBe(3);
    // Still locked at the very end: reported, not silently dropped.
    sink.commit(start('d'), end, rows);
    other.exec('BEGIN IMMEDIATE');
    sink.finish();
    other.exec('COMMIT');
    expect(reported).toEqual(['d lost']);
    expect(sink.writeFailures).toBe(1);
  });
});

describe('simulate keeps what it ran', () => {
  const scenarioCopies = async (dir: string, n: number): Promise<string[]> => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const source = join(process.cwd(), 'callflows/example/scenarios/no-answer-voicemail.json');
    const doc = JSON.parse(readFileSync(source, 'utf8')) as Record<string, unknown>;
    const account = join(process.cwd(), 'callflows/example/account.json');
    return Array.from({ length: n }, (_, i) => {
      const file = join(dir, `s${i}.json`);
      writeFileSync(file, JSON.stringify({ ...doc, account, seed: 1000 + i }));
      return file;
    });
  };

  it('Ctrl-C stops the batch and records every call it ran: no voicemail or message without its execution', async () => {
    const { spawn } = await import('node:child_process');
    const dir = tempDir();
    const files = await scenarioCopies(dir, 300);
    const dbFile = join(dir, 'log.db');
    const child = spawn(process.execPath, ['bin/callflow.js', 'simulate', ...files, '--db', dbFile], {
      env: { ...process.env, CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') },
    });
    let stderr = '';
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.resume();
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        // The first progress line (30 of 300): interrupt mid-batch.
        if (/simulating \d+\/300/.test(stderr)) resolve();
      });
    });
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    const ran = Number(/interrupted \(SIGINT\) after (\d+) of 300 scenarios/.exec(stderr)?.[1]);
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(300);
    const db = openDatabase(dbFile);
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(n('SELECT COUNT(*) AS n FROM executions')).toBe(ran);
    expect(n('SELECT COUNT(*) AS n FROM voicemail_messages')).toBe(ran);
    expect(n('SELECT COUNT(*) AS n FROM voicemail_messages WHERE execution_id NOT IN (SELECT id FROM executions)')).toBe(0);
    expect(n('SELECT COUNT(*) AS n FROM outbox WHERE execution_id NOT IN (SELECT id FROM executions)')).toBe(0);
  }, 60_000);

  it('an execution the step log could not take makes simulate fail, and says so', async () => {
    const { cliAsync } = await import('./support/cli.ts');
    const dir = tempDir();
    const dbFile = join(dir, 'log.db');
    const db = openDatabase(dbFile);
    db.exec(`CREATE TRIGGER refuse_steps BEFORE INSERT ON steps BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    db.close();
    const [file] = await scenarioCopies(dir, 1);
    const r = await cliAsync(['simulate', file!, '--db', dbFile], { CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^step log: execution [0-9a-f-]+ recorded as incomplete: disk says no$/m);
  }, 30_000);
});
