// README "The command line": "A `--db` that is not a step log (not a SQLite file, a directory, a
// database without the step log's tables) is a usage error naming the file", and "a usage error
// exits 2". The commands that write the step log (simulate, coverage, serve) included.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/sim.ts';

const cli = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, ['bin/callflow.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, CALLFLOW_OUTBOX_DIR: tempDir('cf-db-usage-outbox-'), ...env },
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const exampleAccount = resolve('callflows/example/account.json');
const exampleScenario = resolve('callflows/example/scenarios/alice-answers.json');

function textFile(): string {
  const file = join(tempDir(), 'notes.db');
  writeFileSync(file, 'this is not a database\n');
  return file;
}

describe('a --db that is not a step log is a usage error naming the file', () => {
  it('simulate --db <a text file>: exit 2, naming the file', () => {
    const file = textFile();
    const r = cli(['simulate', exampleScenario, '--db', file]);
    expect(r.err).toContain(file);
    expect(r.code).toBe(2);
  });

  it('simulate --db <a directory>: exit 2, naming the directory', () => {
    const dir = tempDir();
    const r = cli(['simulate', exampleScenario, '--db', dir]);
    expect(r.err).toContain(dir);
    expect(r.code).toBe(2);
  });

  it('coverage --db <a text file>: exit 2, naming the file', () => {
    const file = textFile();
    const r = cli(['coverage', resolve('callflows/example/main.json'), exampleScenario, '--db', file]);
    expect(r.err).toContain(file);
    expect(r.code).toBe(2);
  });

  it('serve --db <a directory>: exit 2, naming the directory, before listening', () => {
    const dir = tempDir();
    const r = cli(['serve', '--account', exampleAccount, '--listen', '127.0.0.1:0', '--no-inbound', '--db', dir]);
    expect(r.err).toContain(dir);
    expect(r.err).not.toContain('listening');
    expect(r.code).toBe(2);
  });

  it("simulate --db <another program's SQLite database>: exit 2, and the step log's tables are not added to it", () => {
    const file = join(tempDir(), 'other.db');
    const other = new Database(file);
    other.exec('CREATE TABLE contacts (name TEXT)');
    other.close();
    const before = readFileSync(file);
    const r = cli(['simulate', exampleScenario, '--db', file]);
    expect(r.err).toContain(file);
    expect(r.code).toBe(2);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('simulate --db <an empty file>: a new step log, as for a file that does not exist', () => {
    const file = join(tempDir(), 'new.db');
    writeFileSync(file, '');
    const r = cli(['simulate', exampleScenario, '--db', file]);
    expect(r.err).not.toContain('step log');
    expect(r.code).toBe(0);
  });
});
