// The README and each command's --help, held to what the code does.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioSchema } from '../integrations/simulator/scenario-schema.ts';
import { tempDir } from './support/sim.ts';

const bin = resolve('bin/callflow.js');
const cli = (args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, CALLFLOW_OUTBOX_DIR: tempDir('cf-docs-outbox-'), ...opts.env },
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const readme = readFileSync('README.md', 'utf8');

/** The rows of the README table whose header row is `header`, as arrays of cells. */
function table(header: string): string[][] {
  const start = readme.indexOf(`\n${header}\n`);
  expect(start, header).toBeGreaterThan(0);
  const rows: string[][] = [];
  for (const line of readme.slice(start + 1).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

/** The README's synopsis of a command, from the command table (`\|` as written: a literal bar). */
const synopsis = (name: string): string =>
  table('| command | does |')
    .map((r) => r[0]!.replace(/^`|`$/g, ''))
    .find((s) => s.startsWith(`callflow ${name} `) || s === `callflow ${name}`)!;

describe('README "Writing a scenario": the field table', () => {
  it('lists every field of the scenario schema, the required name included', () => {
    const fields = table('| field | meaning (default) |').map((r) => r[0]!.replace(/`/g, ''));
    for (const key of Object.keys(scenarioSchema.properties)) {
      expect(fields.some((f) => f === key || f.startsWith(`${key}.`)), key).toBe(true);
    }
    expect(scenarioSchema.required).toContain('name');
  });
});

describe('README "Configuration": the environment table', () => {
  it('names every variable the commands read', () => {
    const documented = table('| variable | meaning |').map((r) => r[0]!).join(' ');
    const files = ['cli', 'integrations'].flatMap((d) =>
      readdirSync(d, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(d, f)),
    );
    const read = new Set(files.flatMap((f) => readFileSync(f, 'utf8').match(/\b(?:CALLFLOW|TWILIO)_[A-Z_]+\b/g) ?? []));
    expect(read).toContain('CALLFLOW_ACCOUNT');
    for (const v of read) expect(documented, v).toContain(`\`${v}\``);
  });
});

describe('template preview: --account may be left out for $CALLFLOW_ACCOUNT', () => {
  it('works so, and its usage and the README show the flag as optional', () => {
    const db = join(tempDir(), 'log.db');
    expect(cli(['simulate', 'callflows/example/scenarios/no-answer-voicemail.json', '--db', db]).code).toBe(0);
    const id = cli(['trace', 'list', '--db', db]).out.split(' ')[0]!;
    const account = JSON.parse(readFileSync('callflows/example/account.json', 'utf8')) as { notification_templates: { id: string }[] };
    const r = cli(['template', 'preview', account.notification_templates[0]!.id, '--execution', id, '--db', db], {
      env: { CALLFLOW_ACCOUNT: 'callflows/example/account.json' },
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(cli(['template', 'preview', '--help']).out).toContain('[--account FILE]');
    expect(synopsis('template preview')).toContain('[--account FILE]');
  });
});

describe('trace show --html: --account and --callflow together', () => {
  it('both are used together, so neither the README nor the usage offers one or the other', () => {
    const dir = tempDir();
    const db = join(dir, 'log.db');
    expect(cli(['simulate', 'callflows/example/scenarios/alice-answers.json', '--db', db]).code).toBe(0);
    const id = cli(['trace', 'list', '--db', db]).out.split(' ')[0]!;
    const r = cli(['trace', 'show', id, '--db', db, '--html', join(dir, 'x.html'), '--account', 'callflows/example/account.json', '--callflow', 'callflows/example/main.json']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'x.html'), 'utf8')).toContain('callflows/example/main.json, callflows/example/account.json');
    expect(synopsis('trace show')).toContain('[--html FILE [--account FILE] [--callflow FILE]]');
    expect(cli(['trace', 'show', '--help']).out).toContain('[--html FILE [--account FILE] [--callflow FILE]]');
  });
});

describe('trace tail --help', () => {
  it('names serve as a writer it follows now, not a later one', () => {
    const help = cli(['trace', 'tail', '--help']).out;
    expect(help).toContain('("callflow simulate" or "callflow serve")');
    expect(help).not.toMatch(/later "callflow serve"/);
  });
});

describe('README: what `npm start` leaves in the working folder', () => {
  it('names every file and folder its simulation writes there', () => {
    const npmStart = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
    const scenario = npmStart.split(' ').at(-1)!;
    const cwd = tempDir('cf-npm-start-');
    const r = cli(['simulate', resolve(scenario)], { cwd, env: { CALLFLOW_OUTBOX_DIR: undefined, CALLFLOW_DB: undefined } });
    expect(r.code, r.err).toBe(0);
    const paragraph = readme.slice(readme.indexOf('Both work on a fresh machine'), readme.indexOf('## Status'));
    const left = readdirSync(cwd, { withFileTypes: true }).filter((e) => e.isDirectory() || e.name === 'callflow.db');
    expect(left.map((e) => e.name).sort()).toEqual(['callflow.db', 'outbox', 'recordings', 'voicemail']);
    for (const e of left) expect(paragraph, e.name).toContain(`\`./${e.name}${e.isDirectory() ? '/' : ''}`);
  });
});
