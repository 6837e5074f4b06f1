import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../cli/command.ts';
import { traceTailCommand } from '../cli/commands/trace-tail.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { account, callflow, tempDir, writeJson } from './support/sim.ts';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Starts a process and collects its output; `exit` settles when it ends. */
function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return { child, exit, output: () => ({ out, err }) };
}

const cli = (args: string[]) => start(['bin/callflow.js', ...args]);

/** Runs `trace tail` in this process (it is not registered in cli/main.ts here), collecting its lines. */
function tail(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const done = traceTailCommand.run(parseCommandArgs(traceTailCommand, argv), {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
    isTty: false,
  });
  return { out, err, done };
}

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Five scenarios on one account: no answer, busy, answered, caller hangs up... */
function fixture() {
  const dir = tempDir('cf-tail-');
  const flow = {
    module: 'user',
    data: { id: 'alice', timeout: 3 },
    children: { NO_ANSWER: { module: 'user', data: { id: 'bob', timeout: 2 } }, _: {} },
  };
  writeJson(join(dir, 'account.json'), account([callflow('main', flow, ['100'])]));
  const scenario = (name: string, body: Record<string, unknown> = {}) =>
    writeJson(join(dir, `${name}.json`), { name, account: 'account.json', call: { from: '555', to: '100' }, ...body });
  return {
    dir,
    db: join(dir, 'log.db'),
    scenarios: [
      scenario('nobody answers'),
      scenario('alice busy', { devices: { 'alice-desk': { action: 'busy' }, 'alice-soft': { action: 'busy' } } }),
      scenario('alice answers', { devices: { 'alice-soft': { action: 'answer', after_s: 1, hangup_after_s: 5 } } }),
      scenario('bob answers', { devices: { 'bob-desk': { action: 'answer', after_s: 1, hangup_after_s: 2 } } }),
      scenario('caller gives up', { caller: { hangup_at_s: 2 } }),
    ],
  };
}

const STEP = /^([0-9a-f]{8}) {2}\+(\d+\.\d{3})s {2}step (\d+) {2}(\S+) {2}(\S+) {2}(\S+?)(?: → "([^"]*)")? {2}(.*)$/;
const FINISHED = /^([0-9a-f]{8}) {2}finished {2}([0-9a-f-]{36}) {2}/;

/** What the step log holds, as tail should have printed it: per execution, its steps then its end. */
function expectedFromDb(file: string, executionIds?: readonly string[]) {
  const db = openDatabase(file, { readonly: true });
  const execs = db.prepare('SELECT * FROM executions ORDER BY seq').all() as Record<string, unknown>[];
  const wanted = execs.filter((e) => !executionIds || executionIds.includes(e.id as string));
  const steps = db.prepare('SELECT * FROM steps WHERE execution_seq = ? ORDER BY seq');
  const result = wanted.map((e) => ({
    id: e.id as string,
    steps: (steps.all(e.seq) as Record<string, unknown>[]).map((s) => [
      (e.id as string).slice(-8),
      (((s.started_at as number) - (e.started_at as number)) / 1000).toFixed(3),
      String(s.seq),
      s.module,
      `${s.callflow_id as string}${s.node_path as string}`,
      s.outcome,
      s.child_key ?? undefined,
      s.reason,
    ]),
  }));
  db.close();
  return result;
}

/** Tail's lines parsed back, grouped per execution in the order they were printed. */
function parseTail(lines: readonly string[]) {
  const groups: { id: string | undefined; prefix: string; steps: unknown[][] }[] = [];
  for (const line of lines) {
    const s = STEP.exec(line);
    const f = FINISHED.exec(line);
    if (s) {
      let g = groups.at(-1);
      if (!g || g.prefix !== s[1] || g.id !== undefined) groups.push((g = { id: undefined, prefix: s[1]!, steps: [] }));
      g.steps.push(s.slice(1));
    } else if (f) {
      const g = groups.at(-1);
      if (g && g.prefix === f[1] && g.id === undefined) g.id = f[2];
      else groups.push({ id: f[2], prefix: f[1]!, steps: [] });
    } else {
      throw new Error(`unexpected line: ${line}`);
    }
  }
  return groups.map((g) => ({ id: g.id, steps: g.steps }));
}

describe('callflow trace tail', () => {
  it('follows a step log that other processes write, printing each step and each finished execution', async () => {
    const f = fixture();
    // Started before the log exists: it waits, then prints everything.
    const t = tail(['--db', f.db, '--max-executions', '5', '--timeout', '60']);
    await until(() => t.err.length > 0);
    expect(t.err).toEqual([`trace tail: waiting for a step log at ${f.db}`]);

    const first = cli(['simulate', ...f.scenarios.slice(0, 3), '--db', f.db]);
    expect((await first.exit).code).toBe(0);
    // The first process's three executions are printed while the tail keeps going...
    await until(() => t.out.filter((l) => FINISHED.test(l)).length === 3);
    // ...and a second writer's are picked up as they commit (one scenario: recorded live, a
    // `running` row first, then its steps and its end in one transaction).
    const second = cli(['simulate', f.scenarios[3]!, '--db', f.db]);
    expect((await second.exit).code).toBe(0);
    const third = cli(['simulate', f.scenarios[4]!, '--db', f.db]);
    expect((await third.exit).code).toBe(0);

    expect(await t.done).toBe(0);
    const expected = expectedFromDb(f.db);
    expect(expected).toHaveLength(5);
    expect(parseTail(t.out)).toEqual(expected);
    // Each execution's steps are all there (and not only a lucky first one).
    const db = openDatabase(f.db, { readonly: true });
    const perScenario = db
      .prepare('SELECT e.scenario, COUNT(*) AS n FROM executions e JOIN steps s ON s.execution_seq = e.seq GROUP BY e.seq ORDER BY e.scenario')
      .all();
    db.close();
    expect(perScenario).toEqual([
      { scenario: 'alice answers', n: 1 },
      { scenario: 'alice busy', n: 1 },
      { scenario: 'bob answers', n: 2 },
      { scenario: 'caller gives up', n: 1 },
      { scenario: 'nobody answers', n: 2 },
    ]);
    expect(t.out.filter((l) => STEP.test(l))).toHaveLength(7);
    expect(t.out.find((l) => l.includes('finished') && l.includes('caller gives up'))).toMatch(/completed\/channel_gone {2}ORIGINATOR_CANCEL by caller {2}2\.000s$/);
    const sample = t.out.find((l) => l.includes('main/flow/children/NO_ANSWER'))!;
    expect(sample).toMatch(/^[0-9a-f]{8} {2}\+3\.000s {2}step 2 {2}user {2}main\/flow\/children\/NO_ANSWER {2}/);
  });

  it('without --from-start prints only what comes after it started; --timeout stops it', async () => {
    const f = fixture();
    expect((await cli(['simulate', ...f.scenarios.slice(0, 2), '--db', f.db]).exit).code).toBe(0);
    const before = expectedFromDb(f.db).map((e) => e.id);

    const t = tail(['--db', f.db, '--max-executions', '2', '--timeout', '60']);
    await new Promise((r) => setTimeout(r, 300));
    expect((await cli(['simulate', ...f.scenarios.slice(2, 4), '--db', f.db]).exit).code).toBe(0);
    expect(await t.done).toBe(0);
    const after = expectedFromDb(f.db)
      .map((e) => e.id)
      .filter((id) => !before.includes(id));
    expect(parseTail(t.out)).toEqual(expectedFromDb(f.db, after));
    expect(t.err).toEqual([]);

    // --from-start: the whole log, then (nothing more comes) --timeout ends it.
    const startedAt = Date.now();
    const all = tail(['--db', f.db, '--from-start', '--timeout', '1']);
    expect(await all.done).toBe(0);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect(parseTail(all.out)).toEqual(expectedFromDb(f.db));
  });

  it('stops cleanly on SIGTERM and SIGINT (exit code 0, nothing on stderr)', async () => {
    const f = fixture();
    expect((await cli(['simulate', f.scenarios[0]!, '--db', f.db]).exit).code).toBe(0);
    const code = `
      const { traceTailCommand } = await import('./cli/commands/trace-tail.ts');
      const { parseCommandArgs } = await import('./cli/command.ts');
      const io = { out: (l) => process.stdout.write(l + '\\n'), err: (l) => process.stderr.write(l + '\\n'), env: process.env, isTty: false };
      process.exitCode = await traceTailCommand.run(parseCommandArgs(traceTailCommand, ['--from-start']), io);
    `;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const p = start(['--import', 'tsx', '--input-type=module', '-e', code], { CALLFLOW_DB: f.db });
      await until(() => p.output().out.includes('finished'));
      p.child.kill(signal);
      const r = await p.exit;
      expect(r.signal, signal).toBeNull();
      expect(r.code, signal).toBe(0);
      expect(r.err, signal).toBe('');
      expect(parseTail(r.out.trim().split('\n'))).toEqual(expectedFromDb(f.db));
    }
  });

  it('rejects bad options', async () => {
    await expect(tail(['--max-executions', '0']).done).rejects.toThrow('--max-executions must be a positive whole number');
    await expect(tail(['--timeout', 'soon']).done).rejects.toThrow('--timeout must be a positive number of seconds');
    // Refused as the arguments are parsed, as for every command that takes options only.
    expect(() => tail(['extra'])).toThrow('trace tail: unexpected argument "extra"');
  });
});
