import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { messageIdArg, positiveInt } from '../cli/command.ts';
import { readJsonFile } from '../engine/documents/load.ts';
import { cliAsync } from './support/cli.ts';
import { tempDir } from './support/sim.ts';

const cli = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, ['bin/callflow.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, CALLFLOW_OUTBOX_DIR: tempDir('cf-outbox-'), ...env },
    // A command that wrongly accepts its arguments may start serving: fail the test, do not hang it.
    timeout: 15_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr, errLines: r.stderr.split('\n').filter((l) => l.length > 0) };
};

const example = 'callflows/example/scenarios';
const scenarios = ['alice-answers', 'caller-gives-up', 'no-answer-voicemail'].map((s) => `${example}/${s}.json`);
// Anything that could act on a terminal: C0 and C1 controls (ESC, BEL, CR, LF...) and DEL.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Runs the CLI with its stdout read by `reader`, which may close the pipe early. */
function cliPiped(args: string[], reader: (stdout: NodeJS.ReadableStream & { destroy(): void }) => void) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['bin/callflow.js', ...args], {
      env: { ...process.env, CALLFLOW_OUTBOX_DIR: tempDir('cf-outbox-') },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    reader(child.stdout);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

let stepLog: string;
beforeAll(() => {
  stepLog = join(tempDir(), 'log.db');
  const r = cli(['simulate', ...scenarios, '--db', stepLog]);
  expect(r.code, r.err).toBe(0);
}, 60_000);

describe('a file that is not JSON', () => {
  it('validate: one line naming the file, the reason and the place, never the raw bytes', () => {
    const file = join(tempDir(), 'esc.json');
    writeFileSync(file, 'hi\n\u001b]0;pwned\u0007\u001b[2J');
    const r = cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/[\u001b\u0007]/);
    expect(r.err).toBe(`${file}: /: invalid JSON: unexpected character 'h' at line 1 column 1\n`);
  });

  it('readJsonFile: control characters are named by code point, wherever the error is', () => {
    const dir = tempDir();
    const cases: [string, string][] = [
      ['{\n  "a": "x\u001b[2Jy"\n}', "control character U+001B in a string (write it escaped) at line 2 column 10"],
      ['{"a": 1}\u0007', 'unexpected U+0007 after the JSON value at line 1 column 9'],
      [`{"pad": "${'x'.repeat(200)}",\n "b": \u001b]0;t\u0007}`, 'unexpected character U+001B at line 2 column 7'],
      ['\ufeff{}', 'unexpected character U+FEFF at line 1 column 1'],
      ['{"a": [1, 2', 'unexpected end of file at line 1 column 12'],
      ['', 'empty file at line 1 column 1'],
    ];
    cases.forEach(([text, problem], i) => {
      const file = join(dir, `${i}.json`);
      writeFileSync(file, text);
      const r = readJsonFile(file);
      expect(r.ok).toBe(false);
      const message = r.ok ? '' : r.error.message;
      expect(message).toBe(`${file}: /: invalid JSON: ${problem}`);
      expect(message).not.toMatch(CONTROL);
    });
  });
});

describe('invalid JSON nested deeply', () => {
  it('still names the reason, line and column (the scan is a loop: recursion overflowed and left V8\'s words)', () => {
    const dir = tempDir();
    const cases: [string, string][] = [
      ['['.repeat(5000) + 'x', "unexpected character 'x' at line 1 column 5001"],
      ['{"a":'.repeat(5000) + '\n  1,}', "expected a property name in double quotes, found '}' at line 2 column 5"],
      ['[{"a":'.repeat(3000) + '[1 2', "expected ',' or ']' after an array element, found '2' at line 1 column 18004"],
      ['['.repeat(100_000), 'unexpected end of file at line 1 column 100001'],
    ];
    cases.forEach(([text, problem], i) => {
      const file = join(dir, `${i}.json`);
      writeFileSync(file, text);
      const r = readJsonFile(file);
      expect(r.ok ? '' : r.error.message).toBe(`${file}: /: invalid JSON: ${problem}`);
    });
    const r = cli(['validate', join(dir, '0.json')]);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${join(dir, '0.json')}: /: invalid JSON: unexpected character 'x' at line 1 column 5001`]);
  });
});

describe('whole-number arguments too large to be exact', () => {
  it('--limit past 2^53 is a usage error naming the flag, not a SQLite "datatype mismatch"', () => {
    for (const command of [['trace', 'list'], ['notifications', 'list'], ['voicemail', 'list', '2000']]) {
      const r = cli([...command, '--db', stepLog, '--limit', '99999999999999999999']);
      expect(r.code, command.join(' ')).toBe(2);
      expect(r.errLines).toEqual([
        `callflow ${command.slice(0, 2).join(' ')}: --limit must be at most 9007199254740991 (got "99999999999999999999")`,
      ]);
    }
    expect(cli(['trace', 'list', '--db', stepLog, '--limit', '1e20']).code).toBe(2);
    expect(cli(['trace', 'list', '--db', stepLog, '--limit', '9007199254740991']).code).toBe(0);
  });

  it('a negative number is refused in the option\'s own words, not as parseArgs\' "argument is ambiguous"', () => {
    const db = join(tempDir(), 'never.db');
    const runs: [string[], string][] = [
      [['trace', 'list', '--db', stepLog, '--limit', '-1'], 'callflow trace list: --limit must be a positive whole number (got "-1")'],
      [['coverage', 'callflows/example/main.json', scenarios[0]!, '--db', db, '--min', '-5'], 'callflow coverage: --min must be a percentage from 0 to 100 (got "-5")'],
      [['simulate', scenarios[0]!, '--db', db, '--deliver-timeout', '-1'], 'callflow simulate: --deliver-timeout must be a positive whole number (got "-1")'],
      [['trace', 'tail', '--db', db, '--timeout', '-.5'], 'callflow trace tail: --timeout must be a positive number of seconds (got "-.5")'],
    ];
    for (const [args, line] of runs) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errLines).toEqual([line]);
    }
    expect(existsSync(db)).toBe(false);
  });

  it('a message id past 2^53 is a usage error, not "no message #1e20"', () => {
    const r = cli(['notifications', 'retry', '100000000000000000000', '--db', stepLog]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      'callflow notifications retry: message id 100000000000000000000 is too large (ids go up to 9007199254740991)',
    ]);
    // 2^53 + 1 rounds to 2^53: it would have named another message.
    expect(cli(['voicemail', 'play', '#9007199254740993', '--db', stepLog]).errLines).toEqual([
      'callflow voicemail play: message id #9007199254740993 is too large (ids go up to 9007199254740991)',
    ]);
    expect(cli(['notifications', 'retry', '999999', '--db', stepLog]).errLines).toEqual(['notifications retry: no message #999999']);
  });

  it('positiveInt and messageIdArg: safe integers only, and a flag may set its own bound', () => {
    expect(positiveInt('limit', '9007199254740991', 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => positiveInt('limit', '9007199254740992', 1)).toThrow('--limit must be at most 9007199254740991 (got "9007199254740992")');
    expect(() => positiveInt('limit', '1.5', 1)).toThrow('--limit must be a positive whole number (got "1.5")');
    expect(() => positiveInt('limit', '5\u001b[2J', 1)).toThrow('--limit must be a positive whole number (got "5?[2J")');
    expect(positiveInt('drain-timeout', '2147483', 60, 2147483)).toBe(2147483);
    expect(() => positiveInt('drain-timeout', '2147484', 60, 2147483)).toThrow('--drain-timeout must be at most 2147483');
    expect(messageIdArg('x', ['#9007199254740991'])).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => messageIdArg('x', ['9007199254740992'])).toThrow('x: message id 9007199254740992 is too large');
  });

  it('serve --drain-timeout longer than a timer can wait is refused (Node would fire it after 1 ms)', () => {
    const r = cli(['serve', '--account', 'callflows/example/account.json', '--drain-timeout', '3000000', '--db', join(tempDir(), 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['callflow serve: --drain-timeout must be at most 2147483 (got "3000000")']);
  });
});

describe('--db that is not a step log', () => {
  const readers = [['trace', 'list'], ['trace', 'show', 'abc'], ['notifications', 'list'], ['notifications', 'retry', '1'], ['voicemail', 'list', '2000'], ['voicemail', 'play', '1']];

  function notStepLogs() {
    const dir = tempDir();
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'not a database\n');
    const directory = join(dir, 'adir');
    mkdirSync(directory);
    const foreign = join(dir, 'other.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    return { text, directory, foreign, empty };
  }

  it('each reader says which file and what is wrong, on one line, exit 2', async () => {
    const f = notStepLogs();
    const expected: [string, string][] = [
      [f.text, `${f.text}: not a callflow step log (file is not a database)`],
      [f.directory, `${f.directory}: is a directory, not a step log`],
      [f.foreign, `${f.foreign}: not a callflow step log (it has no executions table)`],
      [f.empty, `${f.empty}: not a callflow step log (it has no executions table)`],
    ];
    // Every kind of file through a read-only reader and a read-write one; every reader with one kind.
    const runs = [
      ...[['trace', 'list'], ['notifications', 'list']].flatMap((command) => expected.map(([file, problem]) => ({ command, file, problem }))),
      ...readers.map((command) => ({ command, file: expected[0]![0], problem: expected[0]![1] })),
    ];
    const results = await Promise.all(runs.map((run) => cliAsync([...run.command, '--db', run.file], {})));
    runs.forEach(({ command, file, problem }, i) => {
      const name = command.slice(0, 2).join(' ');
      const r = results[i]!;
      expect(r.status, `${name} ${file}`).toBe(2);
      expect(r.stderr).toBe(`callflow ${name}: ${problem}\n`);
    });
  });

  it('a reader that opens the log for writing leaves another SQLite file as it was', () => {
    const f = notStepLogs();
    expect(cli(['notifications', 'list', '--db', f.foreign]).code).toBe(2);
    expect(cli(['notifications', 'deliver', '--db', f.empty]).code).toBe(2);
    const db = new Database(f.foreign, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 't' }]);
    db.close();
    const empty = new Database(f.empty, { readonly: true });
    expect(empty.prepare('SELECT count(*) AS n FROM sqlite_master').get()).toEqual({ n: 0 });
    empty.close();
  });

  it('trace tail: a file that is not a database or a directory is an error at once (an empty file may still be coming)', () => {
    const f = notStepLogs();
    const text = cli(['trace', 'tail', '--db', f.text, '--timeout', '20']);
    expect(text.code).toBe(2);
    expect(text.errLines).toEqual([`callflow trace tail: ${f.text}: not a callflow step log (file is not a database)`]);
    const dir = cli(['trace', 'tail', '--db', f.directory, '--timeout', '20']);
    expect(dir.code).toBe(2);
    expect(dir.errLines).toEqual([`callflow trace tail: ${f.directory}: is a directory, not a step log`]);
  });

  it("trace tail: another program's database is an error at once, as for the other readers", () => {
    const f = notStepLogs();
    const r = cli(['trace', 'tail', '--db', f.foreign, '--timeout', '20']);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([`callflow trace tail: ${f.foreign}: not a callflow step log (it has no executions table)`]);
  });

  it('trace tail: a file with no tables yet (empty, or a fresh SQLite file) is waited on until --timeout, exit 0, left as it was', () => {
    const f = notStepLogs();
    const fresh = join(tempDir(), 'fresh.db');
    const db = new Database(fresh);
    db.exec('CREATE TABLE t (x); DROP TABLE t');
    db.close();
    const before = readFileSync(fresh);
    for (const file of [f.empty, fresh]) {
      const started = Date.now();
      const r = cli(['trace', 'tail', '--db', file, '--timeout', '1']);
      expect(r.code, file).toBe(0);
      expect(r.errLines).toEqual([`trace tail: waiting for a step log at ${file}`]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    }
    expect(readFileSync(f.empty).length).toBe(0);
    expect(readFileSync(fresh).equals(before)).toBe(true);
  });

  it('the file name is printed inert', () => {
    const dir = tempDir();
    const file = join(dir, 'x\u001b[2J.db');
    writeFileSync(file, 'not a database\n');
    const r = cli(['trace', 'list', '--db', file]);
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/\u001b/);
    expect(r.errLines).toEqual([`callflow trace list: ${join(dir, 'x?[2J.db')}: not a callflow step log (file is not a database)`]);
  });
});

describe('--html where the page cannot be written', () => {
  it('trace show and coverage refuse it in one line, exit 2, before any work', () => {
    const dir = tempDir();
    const id = cli(['trace', 'list', '--db', stepLog, '--limit', '1']).out.split(' ')[0]!;
    const cases: [string, string][] = [
      [join(dir, 'no-such-folder', 'x.html'), `folder ${join(dir, 'no-such-folder')} does not exist`],
      [dir, 'is a directory'],
    ];
    for (const [html, problem] of cases) {
      const show = cli(['trace', 'show', id, '--db', stepLog, '--html', html]);
      expect(show.code, html).toBe(2);
      expect(show.errLines).toEqual([`callflow trace show: --html ${html}: ${problem}`]);
      // No scenario is run: the step log it would have written is never created.
      const db = join(dir, 'coverage.db');
      const coverage = cli(['coverage', 'callflows/example/main.json', scenarios[0]!, '--db', db, '--html', html]);
      expect(coverage.code, html).toBe(2);
      expect(coverage.errLines).toEqual([`callflow coverage: --html ${html}: ${problem}`]);
      expect(existsSync(db)).toBe(false);
    }
  });
});

describe('arguments a command does not take', () => {
  it('every command that takes options only refuses a stray argument, exit 2, doing nothing', () => {
    const db = join(tempDir(), 'never.db');
    const runs = [
      ['trace', 'list', 'junk', '--db', stepLog],
      ['trace', 'tail', 'junk', '--db', db, '--timeout', '1'],
      ['notifications', 'list', 'junk', '--db', stepLog],
      ['notifications', 'deliver', 'junk', '--db', stepLog, '--timeout', '1'],
      ['serve', 'junk', '--account', 'callflows/example/account.json', '--listen', '127.0.0.1:0', '--no-inbound', '--db', db],
    ];
    for (const args of runs) {
      const name = args.slice(0, args.indexOf('junk')).join(' ');
      const r = cli(args);
      expect(r.code, name).toBe(2);
      expect(r.errLines).toEqual([`callflow ${name}: unexpected argument "junk"`]);
    }
    expect(existsSync(db)).toBe(false);
  });
});

describe('validate names where a problem is', () => {
  it("a callflow file an account names that cannot be read: the account's file and entry, then the file's own error", () => {
    const dir = tempDir();
    const acct = JSON.parse(readFileSync('callflows/example/account.json', 'utf8')) as { callflows: unknown[] };
    acct.callflows = [...acct.callflows.map((c) => (typeof c === 'string' ? resolve('callflows/example', c) : c)), 'missing.json'];
    const file = join(dir, 'acct.json');
    writeFileSync(file, JSON.stringify(acct));
    const r = cli(['validate', file]);
    expect(r.code).toBe(1);
    const n = acct.callflows.length - 1;
    expect(r.errLines).toEqual([`${file}: /callflows/${n}: ${join(dir, 'missing.json')}: /: cannot read file (ENOENT)`]);
    // Through a scenario, each file on the way is named.
    const scenario = join(dir, 's.json');
    writeFileSync(scenario, JSON.stringify({ name: 's', account: 'acct.json', call: { from: '1', to: '2000' } }));
    expect(cli(['validate', scenario]).errLines).toEqual([
      `${scenario}: /account: ${file}: /callflows/${n}: ${join(dir, 'missing.json')}: /: cannot read file (ENOENT)`,
    ]);
  });

  it('a DTMF press with neither at_s nor on_prompt (or both) is one line saying so; other problems read as before', () => {
    const dir = tempDir();
    const scenario = (dtmf: unknown[]): string => {
      const file = join(dir, 's.json');
      const account = resolve('callflows/example/account.json');
      writeFileSync(file, JSON.stringify({ name: 's', account, call: { from: '1', to: '2000' }, caller: { dtmf } }));
      return file;
    };
    const file = scenario([{ digits: '1' }]);
    const one = `${file}: /caller/dtmf/0: needs either "at_s" or "on_prompt", not both`;
    expect(cli(['validate', file]).errLines).toEqual([one]);
    expect(cli(['validate', scenario([{ digits: '1', at_s: 1, on_prompt: 'beep' }])]).errLines).toEqual([one]);
    expect(cli(['validate', scenario([{ at_s: 1 }])]).errLines).toEqual([`${file}: /caller/dtmf/0: missing required field "digits"`]);
    expect(cli(['validate', scenario([{ digits: 'x', on_prompt: 'beep' }])]).errLines).toEqual([
      `${file}: /caller/dtmf/0/digits: must be DTMF keys (0-9, *, #, A-D) (got "x")`,
    ]);
    expect(cli(['validate', scenario([{ digits: '1', at_s: 1 }])]).code).toBe(0);
  });
});

describe('stdout closed by its reader', () => {
  it('before the first line: exit 0, nothing on stderr (no EPIPE stack trace)', async () => {
    const r = await cliPiped(['trace', 'list', '--db', stepLog], (stdout) => stdout.destroy());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('after the first chunk, as `| head -1` does: exit 0, nothing on stderr', async () => {
    // Enough lines that the CLI is still writing when the pipe goes.
    const big = join(tempDir(), 'big.db');
    const sim = await cliAsync(['simulate', ...Array.from({ length: 40 }, () => scenarios).flat(), '--db', big], {});
    expect(sim.status, sim.stderr).toBe(0);
    const r = await cliPiped(['trace', 'list', '--db', big, '--limit', '400'], (stdout) => stdout.once('data', () => stdout.destroy()));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('what the step log shows a terminal', () => {
  it("a document's callflow id with control characters is printed inert by trace show and trace list", async () => {
    const dir = tempDir();
    const { readFileSync } = await import('node:fs');
    const acct = JSON.parse(readFileSync('callflows/example/account.json', 'utf8')) as Record<string, unknown>;
    const id = 'cf-main\u001b[2J\u001b]0;pwned\u0007';
    const account = {
      ...acct,
      callflows: [{ id, name: 'x', numbers: ['2000'], patterns: [], flow: { module: 'user', data: { id: 'user-alice', timeout: 5 } } }],
    };
    writeFileSync(join(dir, 'account.json'), JSON.stringify(account));
    writeFileSync(join(dir, 's.json'), JSON.stringify({ name: 's', account: 'account.json', call: { from: '+15550000001', to: '2000' } }));
    const db = join(dir, 'log.db');
    const sim = cli(['simulate', join(dir, 's.json'), '--db', db]);
    expect(sim.code).toBe(0);
    expect(sim.out).not.toMatch(CONTROL_EXCEPT_NEWLINE);
    const list = cli(['trace', 'list', '--db', db]);
    const execution = list.out.split(' ')[0]!;
    const show = cli(['trace', 'show', execution, '--db', db]);
    expect(show.out).toContain('callflow  cf-main?[2J?]0;pwned?');
    expect(show.out).not.toMatch(CONTROL_EXCEPT_NEWLINE);
    expect(list.out).not.toMatch(CONTROL_EXCEPT_NEWLINE);
  }, 30_000);
});
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
