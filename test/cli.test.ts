import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { account, callflow, tempDir, writeJson } from './support/sim.ts';

const cli = (args: string[], env: Record<string, string> = {}) => {
  // Messages the runs send go to a temporary folder, never into the working tree.
  const r = spawnSync(process.execPath, ['bin/callflow.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, CALLFLOW_OUTBOX_DIR: tempDir('cf-outbox-'), ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, errLines: r.stderr.split('\n').filter((l) => l.length > 0) };
};

const example = 'callflows/example/scenarios';

describe('callflow CLI', () => {
  it('--help works on every command', () => {
    expect(cli(['--help']).out).toMatch(/validate[\s\S]*simulate[\s\S]*trace list[\s\S]*trace show/);
    for (const c of [['validate'], ['simulate'], ['trace', 'list'], ['trace', 'show']]) {
      const r = cli([...c, '--help']);
      expect(r.code, c.join(' ')).toBe(0);
      expect(r.out).toContain(`usage: callflow ${c.join(' ')}`);
    }
    expect(cli(['trace', '--help']).out).toContain('callflow trace show');
  });

  it('unknown commands and flags exit 2 with one line', () => {
    const r = cli(['simulate', 'x.json', '--colour', 'red']);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain("Unknown option '--colour'");
    expect(cli(['frobnicate']).errLines).toEqual(['callflow: unknown command "frobnicate" (see callflow --help)']);
  });

  it('validate: the example files are fine, with no warning', () => {
    const r = cli(['validate', 'callflows/example/account.json', 'callflows/example/main.json', `${example}/alice-answers.json`]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toEqual([
      'ok: callflows/example/account.json (account bundle)',
      'ok: callflows/example/main.json (callflow)',
      `ok: ${example}/alice-answers.json (scenario)`,
    ]);
    expect(r.err).toBe('');
  });

  it('validate: a malformed callflow exits 1 with one line naming the file and pointer', () => {
    const dir = tempDir();
    const bad = writeJson(join(dir, 'cf.json'), callflow('x', { module: 'user', data: { id: 'alice', timeout: -5 } }));
    const r = cli(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${bad}: /flow/data/timeout: must be >= 0`]);
  });

  it('simulate: one scenario prints its timeline and records it', () => {
    const db = join(tempDir(), 'log.db');
    const r = cli(['simulate', `${example}/alice-answers.json`, '--db', db]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^execution [0-9a-f-]{36} {2}\(simulation: Alice answers/);
    expect(r.out).toContain('result    completed (stopped)  hangup NORMAL_CLEARING sip:200 by callee  duration 184.000s');
    expect(r.out).toMatch(/step 2 {2}user {2}cf-front-desk\/flow\/children\/_\n\s+stop {2}\[184\.000s\] {2}bridge answered/);
  });

  it('simulate: a malformed scenario is one line and the rest of the batch still runs', () => {
    const dir = tempDir();
    writeJson(join(dir, 'account.json'), account([callflow('main', { module: 'user', data: { id: 'alice', timeout: 3 } }, ['100'])]));
    const good = writeJson(join(dir, 'good.json'), { name: 'good', account: 'account.json', call: { from: '1', to: '100' } });
    const bad = writeJson(join(dir, 'bad.json'), { name: 'bad', account: 'account.json', call: { from: '1', to: '100' }, caller: { hangup_at_s: 'later' } });
    const db = join(dir, 'log.db');
    const r = cli(['simulate', bad, good, '--db', db]);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${bad}: /caller/hangup_at_s: must be number (got "later")`]);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.out).toMatch(/^[0-9a-f-]{36} {2}good {2}completed\/callflow_finished {2}NORMAL_CLEARING by engine {2}3\.000s$/m);
  });

  it('simulate: a callflow file that does not load is one line naming the file and place', () => {
    const dir = tempDir();
    writeJson(join(dir, 'account.json'), account([]));
    writeJson(join(dir, 'cf.json'), { id: 'x', flow: { module: 'user', data: { strategy: 'random' } } });
    const s = writeJson(join(dir, 's.json'), { name: 's', account: 'account.json', callflow: 'cf.json', call: { from: '1' } });
    const r = cli(['simulate', s, '--db', join(dir, 'log.db')]);
    expect(r.code).toBe(1);
    // Said through the scenario that names the file: in a batch, which scenario failed.
    expect(r.errLines).toEqual([`${s}: /callflow: ${join(dir, 'cf.json')}: /flow/data/strategy: must be one of "simultaneous", "single" (got "random")`]);
  });

  it('trace list and trace show read the step log (a unique prefix or suffix of the id is enough)', () => {
    const dir = tempDir();
    const db = join(dir, 'log.db');
    cli(['simulate', `${example}/caller-gives-up.json`, `${example}/no-answer-voicemail.json`, '--db', db]);
    const list = cli(['trace', 'list'], { CALLFLOW_DB: db });
    expect(list.code).toBe(0);
    const lines = list.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(list.out).toContain('ORIGINATOR_CANCEL by caller');
    const id = lines.find((l) => l.includes('ORIGINATOR_CANCEL'))!.split('  ')[0]!;
    const show = cli(['trace', 'show', id.slice(-8), '--db', db]);
    expect(show.code).toBe(0);
    expect(show.out).toContain(`execution ${id}`);
    // Execution ids are time-ordered: two runs a moment apart share their first characters
    // (the first six change every 4.6 hours).
    const other = lines.find((l) => !l.includes('ORIGINATOR_CANCEL'))!.split('  ')[0]!;
    expect(other.slice(0, 6)).toBe(id.slice(0, 6));
    expect(cli(['trace', 'show', id.slice(0, 6), '--db', db]).errLines).toEqual([
      `trace show: "${id.slice(0, 6)}" matches more than one execution: give more of the id`,
    ]);
    expect(cli(['trace', 'show', id.slice(0, 30), '--db', db]).out).toContain(`execution ${id}`);
    expect(show.out).toContain('← CHANNEL_HANGUP  Hangup-Cause=ORIGINATOR_CANCEL variable_sip_hangup_disposition=recv_cancel');
    const json = JSON.parse(cli(['trace', 'show', id, '--db', db, '--json']).out);
    expect(json.execution.hangup_by).toBe('caller');
    expect(json.steps.length).toBe(2);
    expect(cli(['trace', 'show', 'zzz', '--db', db]).errLines).toEqual(['trace show: no execution "zzz"']);
    expect(cli(['trace', 'list', '--db', join(dir, 'missing.db')]).errLines[0]).toContain('no step log at');
  });
});
