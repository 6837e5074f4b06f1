// Bad input that used to stall, hang or go unnamed: patterns, prototype names, scenarios' files.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../engine/routing.ts';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { createRegistry } from '../modules/index.ts';
import { account, callflow, tempDir, writeJson } from './support/sim.ts';

// Anything that could act on a terminal: C0 and C1 controls (ESC, BEL, CR, LF...) and DEL.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const cli = (args: string[], env: Record<string, string> = {}, timeout = 20_000) => {
  const r = spawnSync(process.execPath, ['bin/callflow.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, CALLFLOW_OUTBOX_DIR: tempDir('cf-outbox-'), ...env },
    timeout,
    // The simulate command treats SIGTERM as "finish the calls running": only SIGKILL stops a stuck one.
    killSignal: 'SIGKILL',
  });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
};

describe('patterns that stall routing', () => {
  // README: "a pattern that repeats a variable-length group without bound or more than 3 times in
  // all ... is refused at load, since a long dialled number could stall the process on it".
  // (\d|\d\d) is a variable-length group (1 or 2 characters); against n digits and a non-digit the
  // match tries Fibonacci(n) splits: 33 characters ~60 ms, each further character x1.6, so a
  // 64-character number (still matched against patterns) stalls the process for hours.
  it('a repeated alternation of different lengths, (\\d|\\d\\d)+, is refused like (\\d+)+', () => {
    for (const p of ['^(\\d|\\d\\d)+$', '^(1|11)*#$', '^(?:\\d|\\d\\d){1,40}$']) {
      const c = compilePattern(p);
      expect(c.ok, p).toBe(false);
    }
  });
});

describe('a prompt or greeting whose name is an Object.prototype property', () => {
  // simulated-switch.ts promptMs reads `durations_s[name]` on a plain object: a greeting named
  // constructor.wav (or toString, valueOf, __proto__...) gets a function as its duration, NaN ms,
  // and the VirtualClock then sets its time to NaN and spins forever (ignoring SIGTERM, since a
  // batch waits for the running calls).
  const setup = () => {
    const dir = tempDir();
    writeJson(
      join(dir, 'account.json'),
      account([callflow('cf-vm', { module: 'voicemail', data: { id: 'box' } }, ['3000'])], {
        vmboxes: [{ id: 'box', mailbox: '3000', owner_id: 'alice', media: { unavailable: '/var/greetings/constructor.wav' } }],
      }),
    );
    const call = { from: '+14155550100', to: '3000' };
    const stuck = writeJson(join(dir, 'greeting.json'), { name: 'greeting', account: 'account.json', call, caller: { speaks_s: 3, hangup_at_s: 40 } });
    const other = writeJson(join(dir, 'other.json'), {
      name: 'other',
      account: 'account.json',
      call: { from: '+14155550100', to: '9999' },
    });
    return { dir, stuck, other };
  };

  it('the scenario runs to its end (the caller hangs up at 40 s) instead of hanging the process', () => {
    const { dir, stuck } = setup();
    const r = cli(['simulate', stuck, '--db', join(dir, 'log.db'), '--deliver-timeout', '1'], {}, 15_000);
    expect(r.signal, 'killed after 15 s: the simulation never ended').toBeNull();
    expect(r.code).toBe(0);
  }, 40_000);

  it('in a batch, the other scenario still runs and is recorded', () => {
    const { dir, stuck, other } = setup();
    const db = join(dir, 'log.db');
    cli(['simulate', stuck, other, '--db', db, '--concurrency', '2', '--deliver-timeout', '1'], {}, 15_000);
    const log = new Database(db, { readonly: true });
    const n = (log.prepare("SELECT count(*) AS n FROM executions WHERE scenario = 'other'").get() as { n: number }).n;
    log.close();
    expect(n, 'the finished "other" execution was never written').toBe(1);
  }, 40_000);
});

describe('a batch names the scenario that did not load', () => {
  it('a scenario whose account or callflow file is missing is named, not only the missing file', () => {
    const dir = tempDir();
    const first = writeJson(join(dir, 'first-call.json'), { name: 'first', account: 'nowhere.json', call: { from: '+1', to: '2000' } });
    const second = writeJson(join(dir, 'second-call.json'), {
      name: 'second',
      account: join(process.cwd(), 'callflows/example/account.json'),
      callflow: 'missing-flow.json',
      call: { from: '+1' },
    });
    const r = cli(['simulate', first, second, 'callflows/example/scenarios/alice-answers.json', '--db', join(dir, 'log.db'), '--deliver-timeout', '1']);
    expect(r.code).toBe(1);
    // Each line names the scenario and its field, then the file and what is wrong with it.
    expect(r.err).toContain(`${first}: /account: ${join(dir, 'nowhere.json')}: /: cannot read file (ENOENT)`);
    expect(r.err).toContain(`${second}: /callflow: ${join(dir, 'missing-flow.json')}: /: cannot read file (ENOENT)`);
  }, 40_000);
});

describe('scenario times', () => {
  it('a time over a day is refused at load, naming the field (1e308 s made an infinite duration)', () => {
    const dir = tempDir();
    writeJson(join(dir, 'account.json'), account([]));
    const s = writeJson(join(dir, 's.json'), { name: 's', account: 'account.json', call: { from: '+1', to: '2000' }, max_call_s: 1e308 });
    const r = cli(['validate', s]);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(`${s}: /max_call_s: must be <= 86400`);
  });
});

describe('coverage prints values from scenarios inert', () => {
  it("a scenario's call.to with escape sequences never reaches the terminal raw", () => {
    const dir = tempDir();
    writeJson(join(dir, 'account.json'), account([callflow('cf', { module: 'user', data: { id: 'alice' } }, ['2000'])]));
    const cf = writeJson(join(dir, 'cf.json'), callflow('cf', { module: 'user', data: { id: 'alice' } }, ['2000']));
    const bad = writeJson(join(dir, 'esc.json'), { name: 'esc', account: 'account.json', call: { from: '+1415', to: '\u001b]0;pwned\u0007\u001b[2J' } });
    const r = cli(['coverage', cf, bad, '--db', join(dir, 'log.db')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('esc.json');
    expect(r.err).not.toMatch(CONTROL);
  });
});

describe('serve configuration from the environment', () => {
  // README: a bad value stops the command with one line naming the variable (it named the flag
  // the operator never gave, and echoed the control characters it refused).
  it('serve: a bad CALLFLOW_SOUND_TEMPLATE / CALLFLOW_LEG_TEMPLATE is named as the variable, printed inert', () => {
    const dir = tempDir();
    for (const [name, value] of [
      ['CALLFLOW_SOUND_TEMPLATE', '\u001b]0;pwned\u0007{name}'],
      ['CALLFLOW_LEG_TEMPLATE', 'sofia/\u001b[2J{username}'],
    ] as const) {
      const r = cli(['serve', '--account', 'callflows/example/account.json', '--db', join(dir, 'live.db'), '--listen', '127.0.0.1:0', '--no-inbound'], { [name]: value }, 10_000);
      expect(r.code).toBe(2);
      expect(r.err).toContain(name);
      expect(r.err).not.toMatch(CONTROL);
    }
  }, 30_000);
});

describe('a scenario whose calling device is not in the account', () => {
  const setup = () => {
    const dir = tempDir();
    writeJson(join(dir, 'account.json'), account([callflow('main', { module: 'user', data: { id: 'alice' } }, ['100'])]));
    return writeJson(join(dir, 's.json'), { name: 's', account: 'account.json', call: { from: '+1', to: '100', device: 'ghost-phone' } });
  };

  it('is refused at load with one error naming the device and the field', () => {
    const file = setup();
    const r = loadScenario(file, { registry: createRegistry(), validator: new SchemaValidator() });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.message)).toEqual([`${file}: /call/device: no device "ghost-phone" in the account`]);
  });

  it('validate says so in one line', () => {
    const file = setup();
    const r = cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(`${file}: /call/device: no device "ghost-phone" in the account`);
  });
});
