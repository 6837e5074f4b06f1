import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { listeningPort, serveProcess } from './support/serve-process.ts';
import { tempDir } from './support/sim.ts';
import type { OutboundCall } from '../integrations/freeswitch/outbound-session.ts';
import { encodeFrame } from './support/esl-peer/wire-format.ts';
import { closeDrivers, collect, driver, ScriptedFs, until, UUID, wait } from './support/scripted-fs.ts';

afterEach(closeDrivers);
describe('reply queue after a protocol error', () => {
  it('E1: after a reply of the wrong type closes the link, a reply later in the same chunk is not handed to the next command as its ack', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const { sw } = await nextCall();
    collect(sw, UUID);
    const first = sw.execute(UUID, 'app-1', { app: 'answer' });
    const second = sw.execute(UUID, 'app-2', { app: 'sleep', ms: 500 });
    await fs.next();
    await fs.next();
    // A stray api/response where the first sendmsg's command/reply belongs, then a +OK.
    fs.write(encodeFrame({ kind: 'api-response', body: '+OK stray\n' }), fs.reply('+OK'));
    const a = await first;
    const b = await second;
    expect(a.ok).toBe(false);
    expect(b.ok).toBe(false);
  });
});

describe('socket dropped during the handshake', () => {
  it('E2b: a call lost in its handshake is at least named in one log line', async () => {
    const warnings: string[] = [];
    const { server, nextCall } = await driver({ logger: { info() {}, warn: (l) => warnings.push(l) } });
    let handed: OutboundCall | null = null;
    void nextCall().then((c) => (handed = c));
    const fs = await ScriptedFs.dial(server.port);
    await fs.answerConnect({ number: '+1415' });
    fs.socket.destroy();
    await wait(300);
    // The connect reply named the channel, so the call is both handed over and named in a warning
    // (the log line is what an operator greps for; the handover alone would not show there).
    expect(handed).not.toBeNull();
    expect(warnings.filter((w) => w.includes(UUID))).toHaveLength(1);
    expect(warnings.find((w) => w.includes(UUID))).toContain('closed during its handshake');
  });
  it('E2: the caller is known (connect reply in), the socket drops before linger is answered: the call still reaches the engine', async () => {
    const { server, nextCall } = await driver();
    let handed: OutboundCall | null = null;
    void nextCall().then((c) => (handed = c));
    const fs = await ScriptedFs.dial(server.port);
    await fs.answerConnect({ number: '+1415' });
    fs.write(fs.reply('+OK event listener enabled json'));
    expect((await fs.next()).line).toBe('myevents json');
    fs.write(fs.reply('+OK Events Enabled'));
    await fs.next();
    // The caller hangs up before `linger` is processed: FreeSWITCH does not linger, it says goodbye and closes.
    fs.write(fs.reply('+OK event listener enabled json'), fs.event('CHANNEL_HANGUP', { 'Hangup-Cause': 'ORIGINATOR_CANCEL' }), encodeFrame({ kind: 'disconnect-notice', sessionUuid: UUID }));
    fs.socket.end();
    await wait(300);
    expect(handed).not.toBeNull();
  });
});

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const serve = (args: string[], env: Record<string, string>) => serveProcess(args, env, cleanup);


describe('serve drain and calls still in their handshake', () => {
  it('E22: a call whose socket was taken before SIGTERM, still in its handshake, is hung up and recorded, not dropped unrecorded', async () => {
    const dir = tempDir();
    const db = join(dir, 'live.db');
    const s = serve(['--account', 'callflows/example/account.json', '--listen', '127.0.0.1:0', '--no-inbound', '--db', db], { CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') });
    await s.until(() => s.err.some((l) => l.startsWith('serve: listening for FreeSWITCH')), 'listening line');
    const fs = await ScriptedFs.dial(listeningPort(s.err));
    expect((await fs.next()).line).toBe('connect');
    s.child.kill('SIGTERM');
    await s.until(() => s.err.some((l) => l.includes('taking no new calls')), 'drain line');
    // FreeSWITCH answers the connect a moment later (a few round trips on a real network).
    await wait(20);
    fs.write(encodeFrame({ kind: 'connect-reply', headers: [['Event-Name', 'CHANNEL_DATA'], ['Unique-ID', UUID], ['Channel-Name', 'sofia/internal/1001'], ['Caller-Caller-ID-Number', '+14155550100'], ['Caller-Destination-Number', '2000']], socketMode: 'async', control: 'full' }));
    const code = await s.exited;
    const rows = openDatabase(db).prepare('SELECT caller_number, status, end_reason FROM executions').all();
    expect({ code, rows }).toEqual({ code: 0, rows: [{ caller_number: '+14155550100', status: 'failed', end_reason: 'shutting_down' }] });
  }, 30_000);
});
