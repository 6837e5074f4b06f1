import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { RandomIds } from '../engine/providers.ts';
import { VirtualClock } from '../engine/virtual-clock.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { createRegistry } from '../modules/index.ts';
import { EslPeer } from './support/esl-peer/index.ts';
import { runInRealTime } from './support/real-time-peer.ts';
import { listeningPort, serveProcess } from './support/serve-process.ts';
import { tempDir, writeJson } from './support/sim.ts';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const serve = (args: string[], env: Record<string, string>) => serveProcess(args, env, cleanup);

/** A FreeSWITCH (the test peer) whose calls play `scenario` at wall-clock speed. */
async function labSwitch(dir: string, scenario: Record<string, unknown>) {
  const file = writeJson(join(dir, 'scenario.json'), { name: 'lab', account: resolve('callflows/example/account.json'), ...scenario });
  const loaded = loadScenario(file, { registry: createRegistry(), validator: new SchemaValidator() });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const clock = new VirtualClock(Date.now());
  const peer = new EslPeer({ clock, ids: new RandomIds(), scenario: loaded.value.scenario, account: loaded.value.account.view });
  const stop = runInRealTime(clock);
  cleanup.push(async () => {
    stop();
    await peer.close();
  });
  return peer;
}

describe('callflow serve', () => {
  it('takes calls from outbound sockets, logs one line per call, records them, and connects the inbound socket', async () => {
    const dir = tempDir();
    const peer = await labSwitch(dir, {
      call: { from: '+14155550100', caller_id_name: 'Carol', to: '2000' },
      devices: { 'dev-alice-desk': { action: 'answer', after_s: 0.3, hangup_after_s: 0.5 } },
    });
    const eslPort = await peer.listen();
    const db = join(dir, 'live.db');
    const s = serve(['--account', 'callflows/example/account.json', '--listen', '127.0.0.1:0', '--esl', `127.0.0.1:${eslPort}`, '--db', db], {
      CALLFLOW_ESL_PASSWORD: 'ClueCon',
      CALLFLOW_OUTBOX_DIR: join(dir, 'outbox'),
    });
    await s.until(() => s.err.some((l) => l.startsWith('serve: listening for FreeSWITCH')), 'listening line');
    const port = listeningPort(s.err);
    await s.until(() => s.err.some((l) => l.includes('inbound') && l.includes('connected')), 'inbound connection');
    await peer.dial('127.0.0.1', port);
    await s.until(() => s.out.some((l) => l.startsWith('call ')), 'call line');
    const line = s.out.find((l) => l.startsWith('call '))!;
    expect(line).toMatch(/^call [0-9a-f-]{36}  \+14155550100 → 2000  completed\/\S+  NORMAL_CLEARING by \w+  \d+\.\d s  2 step\(s\)  execution [0-9a-f-]{36}$/);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.err.at(-1)).toBe('serve: stopped');
    const rows = openDatabase(db).prepare('SELECT source, status, call_bridged FROM executions').all();
    expect(rows).toEqual([{ source: 'freeswitch', status: 'completed', call_bridged: 1 }]);
  });

  it('SIGTERM lets a call in flight finish, post-hangup work included, then exits 0', async () => {
    const dir = tempDir();
    const peer = await labSwitch(dir, {
      call: { from: '+14155550100', caller_id_name: 'Carol', to: '2000' },
      devices: { 'dev-alice-desk': { action: 'answer', after_s: 0.2, hangup_after_s: 3 } },
    });
    const db = join(dir, 'live.db');
    const s = serve(['--account', 'callflows/example/account.json', '--listen', '127.0.0.1:0', '--no-inbound', '--db', db], {
      CALLFLOW_OUTBOX_DIR: join(dir, 'outbox'),
    });
    await s.until(() => s.err.some((l) => l.startsWith('serve: listening for FreeSWITCH')), 'listening line');
    const port = listeningPort(s.err);
    await peer.dial('127.0.0.1', port);
    // the bridge is ringing or talking: the call is in flight for another 3 s at least
    await s.until(() => peer.commandsReceived().some((c) => c.includes('execute-app-name: bridge')), 'bridge command');
    s.child.kill('SIGTERM');
    await s.until(() => s.err.some((l) => l.includes('SIGTERM: taking no new calls; waiting up to 60 s for 1 call(s) in flight')), 'drain line');
    expect(await s.exited).toBe(0);
    expect(s.out.filter((l) => l.startsWith('call '))).toHaveLength(1);
    const log = openDatabase(db);
    expect(log.prepare('SELECT status, end_reason FROM executions').all()).toEqual([{ status: 'completed', end_reason: 'stopped' }]);
    // the notification node's post-hangup handler ran and queued its message
    expect(log.prepare("SELECT status FROM effects WHERE module = 'notification'").all()).toEqual([{ status: 'ok' }]);
    expect((log.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(1);
  });

  it('calls still in flight when the drain time is up: their sockets close, each execution still ends and runs its post-hangup work, exit 1', async () => {
    const dir = tempDir();
    const peer = await labSwitch(dir, {
      call: { from: '+14155550100', caller_id_name: 'Carol', to: '2000' },
      devices: { 'dev-alice-desk': { action: 'answer', after_s: 0.2, hangup_after_s: 30 } },
    });
    const db = join(dir, 'live.db');
    const s = serve(['--account', 'callflows/example/account.json', '--listen', '127.0.0.1:0', '--no-inbound', '--db', db, '--drain-timeout', '1'], {
      CALLFLOW_OUTBOX_DIR: join(dir, 'outbox'),
    });
    await s.until(() => s.err.some((l) => l.startsWith('serve: listening for FreeSWITCH')), 'listening line');
    const port = listeningPort(s.err);
    await peer.dial('127.0.0.1', port);
    await s.until(() => peer.commandsReceived().some((c) => c.includes('execute-app-name: bridge')), 'bridge command');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(1);
    expect(s.err).toContain('serve: 1 call(s) still in flight after 1 s: closing their sockets');
    const log = openDatabase(db);
    expect(log.prepare('SELECT status, end_reason FROM executions').all()).toEqual([{ status: 'completed', end_reason: 'switch_disconnected' }]);
    expect(log.prepare("SELECT status FROM effects WHERE module = 'notification'").all()).toEqual([{ status: 'ok' }]);
    // A closed socket leaves no hangup cause; an ok effect that queued nothing would be no post-hangup work at all.
    expect((log.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(1);
  });

  describe('whatever happens around it, every call is served to its end and recorded', () => {
    const short = { call: { from: '+14155550100', caller_id_name: 'Carol', to: '2000' }, devices: { 'dev-alice-desk': { action: 'answer', after_s: 0.1, hangup_after_s: 0.2 } } };
    const long = { call: { from: '+14155550101', caller_id_name: 'Dave', to: '2000' }, devices: { 'dev-alice-desk': { action: 'answer', after_s: 0.1, hangup_after_s: 4 } } };
    const start = async (dir: string) => {
      const db = join(dir, 'live.db');
      const s = serve(['--account', 'callflows/example/account.json', '--listen', '127.0.0.1:0', '--no-inbound', '--db', db], { CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') });
      await s.until(() => s.err.some((l) => l.startsWith('serve: listening for FreeSWITCH')), 'listening line');
      return { s, db, port: listeningPort(s.err) };
    };
    const rows = (db: string) => openDatabase(db).prepare('SELECT caller_number, status, end_reason FROM executions ORDER BY caller_number').all();

    it("stdout's reader gone (`serve | tee log` and tee died): serve says so once and goes on serving", async () => {
      const dir = tempDir();
      const b = await labSwitch(dir, long);
      const a = await labSwitch(dir, short);
      const { s, db, port } = await start(dir);
      s.child.stdout!.destroy();
      await b.dial('127.0.0.1', port);
      await s.until(() => b.commandsReceived().some((c) => c.includes('execute-app-name: bridge')), 'bridge of the long call');
      await a.dial('127.0.0.1', port);
      await s.until(() => s.err.some((l) => l.includes('stdout is closed')), 'the stdout line', 5000);
      await s.until(() => rows(db).length === 2 && rows(db).every((r) => (r as { status: string }).status !== 'running'), 'both calls recorded', 10_000);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(rows(db)).toEqual([
        { caller_number: '+14155550100', status: 'completed', end_reason: 'stopped' },
        { caller_number: '+14155550101', status: 'completed', end_reason: 'stopped' },
      ]);
    }, 30_000);

    it('a second signal during the drain closes the calls in flight at once; they are still recorded, exit 1', async () => {
      const dir = tempDir();
      const b = await labSwitch(dir, { ...long, devices: { 'dev-alice-desk': { action: 'answer', after_s: 0.1, hangup_after_s: 30 } } });
      const { s, db, port } = await start(dir);
      await b.dial('127.0.0.1', port);
      await s.until(() => b.commandsReceived().some((c) => c.includes('execute-app-name: bridge')), 'bridge command');
      s.child.kill('SIGINT');
      await s.until(() => s.err.some((l) => l.includes('taking no new calls')), 'drain line');
      s.child.kill('SIGINT');
      expect(await s.exited).toBe(1);
      expect(s.err).toContain('serve: SIGINT again: closing the 1 call(s) in flight now');
      expect(rows(db)).toEqual([{ caller_number: '+14155550101', status: 'completed', end_reason: 'switch_disconnected' }]);
    }, 30_000);

    it('a call arriving during the drain is hung up at once and recorded (failed, shutting_down)', async () => {
      const dir = tempDir();
      const b = await labSwitch(dir, long);
      const a = await labSwitch(dir, short);
      const { s, db, port } = await start(dir);
      await b.dial('127.0.0.1', port);
      await s.until(() => b.commandsReceived().some((c) => c.includes('execute-app-name: bridge')), 'bridge command');
      s.child.kill('SIGTERM');
      await s.until(() => s.err.some((l) => l.includes('taking no new calls')), 'drain line');
      await a.dial('127.0.0.1', port);
      expect(await s.exited).toBe(0);
      expect(rows(db)).toEqual([
        { caller_number: '+14155550100', status: 'failed', end_reason: 'shutting_down' },
        { caller_number: '+14155550101', status: 'completed', end_reason: 'stopped' },
      ]);
    }, 30_000);
  });

  it('a port already in use: one line, and the process exits', async () => {
    const blocker = (await import('node:net')).createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    cleanup.push(() => void blocker.close());
    const dir = tempDir();
    const s = serve(['--account', 'callflows/example/account.json', '--listen', `127.0.0.1:${port}`, '--no-inbound', '--db', join(dir, 'x.db')], {
      CALLFLOW_OUTBOX_DIR: join(dir, 'outbox'),
    });
    expect(await Promise.race([s.exited, new Promise((r) => setTimeout(() => r('still running'), 8000))])).toBe(1);
    expect(s.err.some((l) => l.includes('EADDRINUSE'))).toBe(true);
  });

  it('bad settings: one line naming the place, exit 2', async () => {
    const s = serve(['--account', 'callflows/example/account.json', '--listen', 'nowhere:99999'], {});
    expect(await s.exited).toBe(2);
    expect(s.err).toEqual(['callflow serve: --listen must be host:port or a port from 0 to 65535 (got "nowhere:99999")']);
    const t = serve(['--account', 'callflows/example/account.json', '--leg-template', 'sofia/internal/{username},evil'], {});
    expect(await t.exited).toBe(2);
    expect(t.err).toEqual(['callflow serve: --leg-template "sofia/internal/{username},evil": it may not contain , | [ ] ^, spaces or control characters']);
    const u = serve(['--account', 'callflows/example/account.json', '--sound-template', 'prompts/x.wav'], {});
    expect(await u.exited).toBe(2);
    expect(u.err).toEqual(['callflow serve: --sound-template must contain {name} and no spaces, control characters or ${ (got "prompts/x.wav")']);
  });
});
