import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TimeOrderedIds } from '../engine/providers.ts';
import { openDatabase, type Db } from '../integrations/sqlite/open-database.ts';
import { account, callflow, simulate, tempDir } from './support/sim.ts';

const dump = (db: Db, skip: string[] = []): Record<string, unknown[]> => {
  const out: Record<string, unknown[]> = {};
  for (const t of ['executions', 'steps', 'channel_events', 'commands', 'effects']) {
    out[t] = (db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all() as Record<string, unknown>[]).map((r) => {
      for (const k of skip) delete r[k];
      return r;
    });
  }
  return out;
};

const flow = {
  module: 'user',
  data: { id: 'alice', timeout: 15 },
  children: { NO_ANSWER: { module: 'user', data: { id: 'bob', strategy: 'single' } }, _: { module: 'test_continue', data: {} } },
};

describe('determinism', () => {
  it('the same scenario run twice writes identical step-log rows', async () => {
    const scenario = {
      call: { from: '+15550001', caller_id_name: 'Ann', to: '100' },
      devices: { 'bob-desk': { action: 'answer', after_s: 3, hangup_after_s: 42 } },
      caller: { dtmf: [{ digits: '12', at_s: 1 }] },
      seed: 99,
    };
    const a = await simulate({ account: account([callflow('main', flow, ['100'])]), scenario });
    const b = await simulate({ account: account([callflow('main', flow, ['100'])]), scenario });
    const rowsA = dump(a.db);
    expect(rowsA.steps!.length).toBe(2);
    expect(rowsA.channel_events!.length).toBeGreaterThan(8);
    // The event's name and channel uuid are columns; its headers do not repeat them.
    const create = rowsA.channel_events![0] as { name: string; uuid: string; headers: string };
    expect(create.name).toBe('CHANNEL_CREATE');
    expect(create.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(create.headers)).toMatchObject({ 'Caller-Caller-ID-Name': 'Ann', 'Answer-State': 'ringing' });
    expect(Object.keys(JSON.parse(create.headers))).not.toContain('Event-Name');
    expect(Object.keys(JSON.parse(create.headers))).not.toContain('Unique-ID');
    expect(dump(b.db)).toEqual(rowsA);
  });

  it('another seed gives other ids, the same path', async () => {
    const base = { call: { from: '1', to: '100' } };
    const a = await simulate({ account: account([callflow('main', flow, ['100'])]), scenario: { ...base, seed: 1 } });
    const b = await simulate({ account: account([callflow('main', flow, ['100'])]), scenario: { ...base, seed: 2 } });
    expect(a.summary.id).not.toBe(b.summary.id);
    expect(a.detail.steps.map((s) => s.reason)).toEqual(b.detail.steps.map((s) => s.reason));
  });

  it('through the CLI, two runs differ only in their execution id and wall-clock columns', () => {
    const dir = tempDir();
    const scenario = join(process.cwd(), 'callflows/example/scenarios/alice-answers.json');
    const run = (db: string) =>
      execFileSync(process.execPath, ['bin/callflow.js', 'simulate', scenario, '--db', db], {
        cwd: process.cwd(),
        encoding: 'utf8',
        env: { ...process.env, CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') },
      });
    run(join(dir, 'a.db'));
    run(join(dir, 'b.db'));
    const wall = ['id', 'wall_started_at', 'wall_ended_at'];
    const a = dump(openDatabase(join(dir, 'a.db')), wall);
    expect(a.executions!.length).toBe(1);
    expect(dump(openDatabase(join(dir, 'b.db')), wall)).toEqual(a);
  });

  it('the same scenario simulated twice into one step log is two executions', () => {
    const dir = tempDir();
    const scenario = join(process.cwd(), 'callflows/example/scenarios/caller-gives-up.json');
    for (let i = 0; i < 2; i++) {
      execFileSync(process.execPath, ['bin/callflow.js', 'simulate', scenario, '--db', join(dir, 'a.db')], {
        env: { ...process.env, CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') },
      });
    }
    const rows = openDatabase(join(dir, 'a.db')).prepare('SELECT id, status FROM executions').all() as { id: string; status: string }[];
    expect(rows).toHaveLength(2);
    expect(rows[0]!.id).not.toBe(rows[1]!.id);
    expect(rows.map((r) => r.status)).toEqual(['completed', 'completed']);
  });
});

describe('time-ordered execution ids', () => {
  it('are v7 uuids that sort in the order they were made, within one millisecond too', () => {
    let now = Date.UTC(2026, 10, 27, 15, 0, 0);
    const ids = new TimeOrderedIds({ now: () => now });
    const made: string[] = [];
    for (let i = 0; i < 5000; i++) {
      made.push(ids.uuid());
      if (i % 1000 === 999) now += 1;
    }
    now -= 10; // a clock stepping back must not break the order either
    made.push(ids.uuid());
    for (const id of made) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(parseInt(made[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 10, 27, 15, 0, 0));
    // More than 4,096 in one millisecond: the next millisecond is borrowed, the order kept.
    const burst = Array.from({ length: 5000 }, () => ids.uuid());
    expect([...made, ...burst].sort()).toEqual([...made, ...burst]);
    // The short form (last 8 characters) is random, not shared by ids of the same moment.
    expect(new Set(burst.slice(0, 100).map((id) => id.slice(-8))).size).toBe(100);
  });
});
