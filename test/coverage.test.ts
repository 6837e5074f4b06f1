import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandArgs, type Command } from '../cli/command.ts';
import { coverageCommand } from '../cli/commands/coverage.ts';
import { reachesMin } from '../integrations/simulator/coverage.ts';
import { createProgress, progressBar } from '../cli/progress.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { account, callflow, tempDir, writeJson } from './support/sim.ts';

/** Runs a command in-process, as cli/main.ts would once it is registered. */
async function run(cmd: Command, argv: string[], opts: { isTty?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await cmd.run(parseCommandArgs(cmd, argv), {
    out: (l) => out.push(...l.split('\n')),
    err: (l) => err.push(l),
    env: {},
    isTty: opts.isTty ?? false,
  });
  return { code, out, err };
}

const UNSAFE_KEY = `<img src=x onerror="alert('k')">&`;

/**
 * cf-cov (number 300): user alice; NO_ANSWER → user bob (then {}), USER_BUSY → branch into
 * cf-busy and, on return, user bob; "_" → user bob.
 */
function fixture(opts: { unsafeKey?: boolean } = {}) {
  const dir = tempDir('cf-coverage-');
  const bob = (timeout: number) => ({ module: 'user', data: { id: 'bob', timeout } });
  const children: Record<string, unknown> = {
    NO_ANSWER: { ...bob(2), children: { _: {} } },
    USER_BUSY: { module: 'callflow', data: { id: 'cf-busy' }, children: { _: bob(1) } },
    _: bob(1),
  };
  if (opts.unsafeKey) children[UNSAFE_KEY] = bob(1);
  const cf = writeJson(join(dir, 'cf.json'), callflow('cf-cov', { module: 'user', data: { id: 'alice', timeout: 3 }, children }, ['300']));
  writeJson(join(dir, 'account.json'), account(['cf.json', callflow('cf-busy', bob(2), ['301']), callflow('cf-other', bob(2), ['400'])]));
  const scenario = (name: string, body: Record<string, unknown>) =>
    writeJson(join(dir, `${name}.json`), { name, account: 'account.json', ...body });
  return {
    dir,
    cf,
    db: join(dir, 'log.db'),
    // Nobody answers: alice's user node fails with NO_ANSWER. One routed by number, one by file.
    noAnswer1: scenario('no-answer-1', { call: { from: '1001', to: '300' } }),
    noAnswer2: scenario('no-answer-2', { seed: 2, callflow: 'cf.json', call: { from: '1002' } }),
    busy: scenario('busy', {
      call: { from: '1003', to: '300' },
      devices: { 'alice-desk': { action: 'busy' }, 'alice-soft': { action: 'busy' } },
    }),
    other: scenario('other', { call: { from: '1004', to: '400' } }),
  };
}

const NO_ANSWER_TREE = [
  '/flow  user  2 executions  (attempt 2)',
  '  "NO_ANSWER"  taken 2',
  '    /flow/children/NO_ANSWER  user  2 executions  (attempt 2)',
  '      "_" → {} (stops)  taken 2',
  '  "USER_BUSY"  taken 0  UNREACHED',
  '    /flow/children/USER_BUSY  callflow  not reached  UNREACHED',
  '      "_"  taken 0  UNREACHED',
  '        /flow/children/USER_BUSY/children/_  user  not reached  UNREACHED',
  '  "_"  taken 0  UNREACHED',
  '    /flow/children/_  user  not reached  UNREACHED',
  '',
  'unreached (6):',
  '  edge /flow "USER_BUSY" → /flow/children/USER_BUSY',
  '  node /flow/children/USER_BUSY (callflow)',
  '  edge /flow/children/USER_BUSY "_" → /flow/children/USER_BUSY/children/_',
  '  node /flow/children/USER_BUSY/children/_ (user)',
  '  edge /flow "_" → /flow/children/_',
  '  node /flow/children/_ (user)',
  'coverage: 33.3% (3 of 9 nodes and edges)',
];

describe('callflow coverage', () => {
  it('counts runs per node and takes per edge, lists what no scenario reached, and prints the percentage', async () => {
    const f = fixture();
    const r = await run(coverageCommand, [f.cf, f.noAnswer1, f.noAnswer2, '--db', f.db]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^coverage of callflow "cf-cov" \(.*cf\.json, revision [0-9a-f]{16}\) by 2 executions$/);
    expect(r.out.slice(2)).toEqual(NO_ANSWER_TREE);
    // Nothing on stderr but the progress lines (not a terminal: plain lines).
    expect(r.err).toEqual(['simulating 1/2 (50%)', 'simulating 2/2 (100%)']);

    // The counts are the step log's: the executions were recorded, and steps of the flows the
    // callflow branches into are left out.
    const db = openDatabase(f.db, { readonly: true });
    const rows = db
      .prepare(`SELECT node_path, child_key, COUNT(*) AS n FROM steps WHERE callflow_id = 'cf-cov' GROUP BY node_path, child_key ORDER BY node_path`)
      .all();
    db.close();
    expect(rows).toEqual([
      { node_path: '/flow', child_key: 'NO_ANSWER', n: 2 },
      { node_path: '/flow/children/NO_ANSWER', child_key: '_', n: 2 },
    ]);
  });

  it('--min: exit 1 with one line below it, 0 at or above it; only this run\'s executions count', async () => {
    const f = fixture();
    const below = await run(coverageCommand, [f.cf, f.noAnswer1, f.noAnswer2, '--db', f.db, '--min', '50']);
    expect(below.code).toBe(1);
    expect(below.err.filter((l) => !l.startsWith('simulating'))).toEqual(['coverage 33.3% is below --min 50%']);
    expect(below.out.at(-1)).toBe('coverage: 33.3% (3 of 9 nodes and edges)');

    const above = await run(coverageCommand, [f.cf, f.noAnswer1, f.noAnswer2, '--db', f.db, '--min', '33']);
    expect(above.code).toBe(0);
    expect(above.err.filter((l) => !l.startsWith('simulating'))).toEqual([]);
    // The database now holds four executions of cf-cov; the report counts the two of this run.
    expect(above.out[0]).toContain('by 2 executions');

    // Adding the busy scenario reaches USER_BUSY, the branch, and its "_" child on return.
    const more = await run(coverageCommand, [f.cf, f.noAnswer1, f.noAnswer2, f.busy, '--db', f.db, '--min', '77.7']);
    expect(more.code).toBe(0);
    expect(more.out).toContain('  "USER_BUSY"  taken 1');
    expect(more.out).toContain('    /flow/children/USER_BUSY  callflow  1 execution  (branch 1)');
    expect(more.out).toContain('      "_"  taken 0, 1 return from the branch');
    expect(more.out).toContain('        /flow/children/USER_BUSY/children/_  user  1 execution  (attempt 1)');
    expect(more.out.slice(more.out.indexOf('unreached (2):'))).toEqual([
      'unreached (2):',
      '  edge /flow "_" → /flow/children/_',
      '  node /flow/children/_ (user)',
      'coverage: 77.7% (7 of 9 nodes and edges)',
    ]);
    const justBelow = await run(coverageCommand, [f.cf, f.noAnswer1, f.busy, '--db', f.db, '--min', '77.8']);
    expect(justBelow.code).toBe(1);
    expect(justBelow.err.at(-1)).toBe('coverage 77.7% is below --min 77.8%');
  });

  it('--min is met by the percentage it prints: 119 of 125 (95.1999... as a float) reaches 95.2', () => {
    expect(reachesMin({ percent: (119 / 125) * 100 }, 95.2)).toBe(true);
    expect(reachesMin({ percent: (119 / 125) * 100 }, 95.3)).toBe(false);
  });

  it("runs its scenarios as simulate does: a voicemail check logs in and plays the box's messages", async () => {
    const db = join(tempDir('cf-coverage-'), 'log.db');
    // A message in the box first, left by an earlier run on the same --db: an empty box would
    // log in and say "no more messages" whether or not messages are played.
    const left = await run(coverageCommand, ['callflows/example/main.json', 'callflows/example/scenarios/no-answer-voicemail.json', '--db', db]);
    expect(left.code).toBe(0);
    const log = openDatabase(db);
    const [message] = log.prepare('SELECT id, media_path, folder FROM voicemail_messages').all() as { id: number; media_path: string; folder: string }[];
    expect(message).toMatchObject({ folder: 'new' });
    const r = await run(coverageCommand, ['callflows/example/vm-check.json', 'callflows/example/scenarios/alice-checks-voicemail.json', '--db', db]);
    expect(r.code).toBe(0);
    const check = `SELECT seq FROM executions WHERE callee_number = '*97'`;
    const steps = log.prepare(`SELECT reason FROM steps WHERE execution_seq = (${check})`).all() as { reason: string }[];
    expect(steps.map((s) => s.reason)).toEqual(['done checking box 2000; no "_" child: stop: callflow ends']);
    // Played, then kept with 1 at the message menu.
    const played = log.prepare(`SELECT args FROM commands WHERE app = 'playback' AND execution_seq = (${check})`).all() as { args: string }[];
    expect(played.filter((c) => c.args.includes(message!.media_path))).toHaveLength(1);
    expect(log.prepare('SELECT id, folder FROM voicemail_messages').all()).toEqual([{ id: message!.id, folder: 'saved' }]);
  });

  it('--html writes one self-contained page with the counts, every value escaped', async () => {
    const f = fixture({ unsafeKey: true });
    const html = join(f.dir, 'coverage.html');
    const r = await run(coverageCommand, [f.cf, f.noAnswer1, f.noAnswer2, '--db', f.db, '--html', html]);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toBe('coverage: 27.2% (3 of 11 nodes and edges)');
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    // Counts on nodes and edges, unreached ones marked.
    expect(page).toContain('<li class="node reached" data-path="/flow" data-executions="2" data-visits="2">');
    expect(page).toContain('<li class="edge reached" data-from="/flow" data-key="NO_ANSWER" data-taken="2">');
    expect(page).toContain('<span class="count">2 executions</span><span class="outcomes">attempt 2</span>');
    expect(page).toContain('<li class="edge unreached" data-from="/flow" data-key="USER_BUSY" data-taken="0">');
    expect(page).toContain('<li class="node unreached" data-path="/flow/children/_"');
    expect(page).toContain('<span class="pct">27.2%</span>');
    // The hostile child key only ever appears escaped.
    const escaped = '&lt;img src=x onerror=&quot;alert(&#39;k&#39;)&quot;&gt;&amp;';
    expect(page).toContain(`<span class="key">${escaped}</span>`);
    expect(page).toContain(`data-path="/flow/children/${escaped}"`);
    expect(page).not.toContain('<img');
    expect(page).not.toContain(`alert('k')`);
    // Nothing is fetched: no scripts, links, images or remote URLs.
    expect(page).not.toMatch(/<script|<link|<img|url\(|https?:/i);
  });

  it('scenarios that do not exercise the callflow are one line each; the rest still count; exit 1', async () => {
    const f = fixture();
    const broken = writeJson(join(f.dir, 'broken.json'), { name: 'broken', account: 'account.json', call: { from: '1', to: '300' }, seed: 'x' });
    const r = await run(coverageCommand, [f.cf, f.other, broken, f.noAnswer1, '--db', f.db]);
    expect(r.code).toBe(1);
    expect(r.err.filter((l) => !l.startsWith('simulating'))).toEqual([
      `${f.other}: /call/to: runs callflow "cf-other" (${join(f.dir, 'account.json')}), not "cf-cov"`,
      `${broken}: /seed: must be integer (got "x")`,
    ]);
    expect(r.out[0]).toContain('by 1 execution');
    expect(r.out).toContain('  "NO_ANSWER"  taken 1');

    const none = await run(coverageCommand, [f.cf, f.other, '--db', f.db]);
    expect(none.code).toBe(1);
    expect(none.err.at(-1)).toBe('coverage: no scenario exercises callflow "cf-cov"');
    await expect(run(coverageCommand, [f.cf])).rejects.toThrow('give a callflow file and at least one scenario file');
    await expect(run(coverageCommand, [f.cf, f.noAnswer1, '--min', 'lots'])).rejects.toThrow('--min must be a percentage');
  });
});

describe('progress', () => {
  const collect = (isTty: boolean) => {
    const err: string[] = [];
    const raw: string[] = [];
    return { err, raw, io: { err: (l: string) => err.push(l), isTty }, write: (c: string) => raw.push(c) };
  };

  it('not a terminal: a plain line every 10% (or every N items) and at the end', () => {
    const c = collect(false);
    const p = createProgress(c.io, { label: 'simulating', total: 200, write: c.write });
    for (let i = 0; i < 200; i++) p.tick();
    p.done();
    expect(c.err).toEqual(Array.from({ length: 10 }, (_, i) => `simulating ${(i + 1) * 20}/200 (${(i + 1) * 10}%)`));
    expect(c.raw).toEqual([]);

    const d = collect(false);
    const q = createProgress(d.io, { label: 'simulating', total: 7, every: 3 });
    for (let i = 0; i < 7; i++) q.tick();
    expect(d.err).toEqual(['simulating 3/7 (42%)', 'simulating 6/7 (85%)', 'simulating 7/7 (100%)']);

    const e = collect(false);
    const s = createProgress(e.io, { label: 'simulating', total: 3, minTotal: 20 });
    s.tick(3);
    s.err('warning: x');
    expect(e.err).toEqual(['warning: x']);
  });

  it('a terminal: one line redrawn in place on stderr, lines printed above it, erased at the end', () => {
    const c = collect(true);
    const p = createProgress(c.io, { label: 'simulating', total: 200, write: c.write, redrawMs: 0 });
    for (let i = 0; i < 37; i++) p.tick();
    expect(c.raw.at(-1)).toBe(`\r\x1b[K${progressBar('simulating', 37, 200)}`);
    expect(progressBar('simulating', 37, 200, 10)).toBe('simulating 37/200 [=>        ] 18%');
    expect(progressBar('simulating', 200, 200, 10)).toBe('simulating 200/200 [==========] 100%');
    p.err('warning: something');
    expect(c.err).toEqual(['warning: something']);
    expect(c.raw.slice(-2)).toEqual(['\r\x1b[K', `\r\x1b[K${progressBar('simulating', 37, 200)}`]);
    p.done();
    expect(c.raw.at(-1)).toBe('\r\x1b[K');
    expect(c.raw.every((chunk) => !chunk.includes('\n'))).toBe(true);
  });
});
