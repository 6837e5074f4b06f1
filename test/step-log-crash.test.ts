import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { tempDir } from './support/sim.ts';

const example = (p: string): string => join(process.cwd(), 'callflows/example', p);
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/callflow.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

/** An OSC title change, a clear-screen and a line break: what a document value can carry. */
const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\nX';

describe('step log readers print document problems inert', () => {
  it('trace show --html --account: a bad account is reported with its control characters masked, one line per problem', () => {
    const dir = tempDir();
    const db = join(dir, 'log.db');
    const sim = cli(['simulate', example('scenarios/caller-gives-up.json'), '--db', db], { CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') });
    expect(sim.status).toBe(0);
    const id = cli(['trace', 'list', '--db', db]).stdout.slice(0, 36);
    const acc = JSON.parse(readFileSync(example('account.json'), 'utf8')) as Record<string, unknown>;
    acc[HOSTILE] = 1;
    const bad = join(dir, 'bad-account.json');
    writeFileSync(bad, JSON.stringify(acc));
    const r = cli(['trace', 'show', id, '--db', db, '--html', join(dir, 'x.html'), '--account', bad]);
    expect(r.status).toBe(1);
    // `callflow validate` prints the same problem as `...: unknown field "?]0;pwned??[2J?X"` (one line, inert).
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('coverage: a scenario that does not load is reported with its control characters masked, one line per problem', () => {
    const dir = tempDir();
    const sc = JSON.parse(readFileSync(example('scenarios/caller-gives-up.json'), 'utf8')) as Record<string, unknown>;
    sc.account = example('account.json');
    sc[HOSTILE] = 1;
    const bad = join(dir, 'bad-scenario.json');
    writeFileSync(bad, JSON.stringify(sc));
    const r = cli(['coverage', example('main.json'), bad, example('scenarios/caller-gives-up.json'), '--db', join(dir, 'cov.db')]);
    expect(r.status).toBe(1);
    const problem = r.stderr.split('\n').filter((l) => l.startsWith(bad));
    expect(problem.join('\n')).toContain('unknown field');
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});

describe('a batch is never half-written', () => {
  it('simulate killed mid-batch (SIGKILL): every voicemail message and outbox message has its execution, at least marked incomplete', async () => {
    const dir = tempDir();
    const doc = JSON.parse(readFileSync(example('scenarios/no-answer-voicemail.json'), 'utf8')) as Record<string, unknown>;
    const files = Array.from({ length: 300 }, (_, i) => {
      const file = join(dir, `s${i}.json`);
      writeFileSync(file, JSON.stringify({ ...doc, account: example('account.json'), seed: 1000 + i }));
      return file;
    });
    const dbFile = join(dir, 'log.db');
    const child = spawn(process.execPath, ['bin/callflow.js', 'simulate', ...files, '--db', dbFile, '--concurrency', '1'], {
      env: { ...process.env, CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') },
    });
    const exit = new Promise<void>((resolve) => child.on('close', () => resolve()));
    child.stdout.resume();
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/simulating \d+\/300/.test(stderr)) resolve(); // 30 calls ran: a crash (OOM, kill -9, power) now
      });
    });
    child.kill('SIGKILL');
    await exit;
    // The next writer opens the file, as simulate or serve would.
    const db = openDatabase(dbFile);
    new SqliteTraceSink(db);
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(n('SELECT COUNT(*) AS n FROM voicemail_messages')).toBeGreaterThan(0);
    // Today: 0 executions, while the calls' voicemail messages and emails (some already sent) are there.
    expect(n('SELECT COUNT(*) AS n FROM voicemail_messages WHERE execution_id NOT IN (SELECT id FROM executions)')).toBe(0);
    expect(n('SELECT COUNT(*) AS n FROM outbox WHERE execution_id NOT IN (SELECT id FROM executions)')).toBe(0);
    db.close();
  }, 60_000);
});

describe('a batch records an execution before its first kept row, once', () => {
  it('a voicemail kept in a batch still queues its email in the same transaction (the execution row goes in once)', () => {
    const dir = tempDir();
    const db = join(dir, 'log.db');
    const r = cli(['simulate', example('scenarios/no-answer-voicemail.json'), example('scenarios/alice-answers.json'), '--db', db], {
      CALLFLOW_OUTBOX_DIR: join(dir, 'outbox'),
    });
    expect(r.status, r.stderr).toBe(0);
    const h = openDatabase(db, { readonly: true });
    const templates = (h.prepare('SELECT template_id AS t FROM outbox ORDER BY id').all() as { t: string }[]).map((x) => x.t).sort();
    const notes = (h.prepare('SELECT notes FROM steps').all() as { notes: string }[]).map((x) => x.notes).join(' ');
    const statuses = (h.prepare('SELECT status FROM executions').all() as { status: string }[]).map((x) => x.status);
    h.close();
    expect(notes).not.toContain('not sent');
    expect(templates).toEqual(['missed_call_front_desk', 'missed_call_front_desk', 'voicemail_to_email', 'voicemail_to_email']);
    expect(statuses).toEqual(['completed', 'completed']);
  });
});
