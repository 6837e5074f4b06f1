import { connect, type Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { tempDir } from './support/sim.ts';
import type { ChannelEvent, Switch } from '../engine/switch.ts';
import { startOutboundServer, type OutboundServer, type OutboundServerOptions } from '../integrations/freeswitch/outbound-server.ts';
import type { OutboundCall } from '../integrations/freeswitch/outbound-session.ts';
import { CommandReader, type ClientCommand } from './support/esl-peer/command-reader.ts';
import { encodeFrame, type Header } from './support/esl-peer/wire-format.ts';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
class ScriptedFs {
  readonly received: ClientCommand[] = [];
  raw = Buffer.alloc(0);
  closed = false;
  private readonly reader = new CommandReader();
  private waiters: (() => void)[] = [];
  private seen = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.raw = Buffer.concat([this.raw, d]);
      this.received.push(...this.reader.push(d));
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static dial(port: number): Promise<ScriptedFs> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new ScriptedFs(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next command the driver sends (in order), within 2 s. */
  async next(): Promise<ClientCommand> {
    const deadline = Date.now() + 2000;
    while (this.received.length <= this.seen) {
      if (this.closed || Date.now() > deadline) throw new Error(`no command from the driver (closed=${this.closed}); got ${this.received.map((c) => c.line).join(' / ')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.received[this.seen++]!;
  }

  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await wait(10);
    return this.closed;
  }

  write(...frames: (string | Buffer)[]): void {
    this.socket.write(Buffer.concat(frames.map((f) => (typeof f === 'string' ? Buffer.from(f) : f))));
  }

  reply(text: string): Buffer {
    return encodeFrame({ kind: 'command-reply', text });
  }

  event(name: string, headers: Record<string, string>): Buffer {
    return encodeFrame({ kind: 'event', format: 'json', headers: [['Event-Name', name], ['Unique-ID', UUID], ...Object.entries(headers)] as Header[] });
  }

  /** connect → CHANNEL_DATA, then the driver's subscriptions and linger, each answered +OK. */
  async handshake(caller: { number?: string; name?: string } = {}): Promise<void> {
    expect((await this.next()).line).toBe('connect');
    const data: Header[] = [
      ['Event-Name', 'CHANNEL_DATA'],
      ['Unique-ID', UUID],
      ['Channel-Name', 'sofia/internal/1001@example.sip.local'],
      ['Answer-State', 'ringing'],
      ['Caller-Caller-ID-Number', caller.number ?? '+14155550100'],
      ['Caller-Caller-ID-Name', caller.name ?? 'Carol Patient'],
      ['Caller-Destination-Number', '2000'],
      ['variable_sip_from_user', '1001'],
    ];
    this.write(encodeFrame({ kind: 'connect-reply', headers: data, socketMode: 'async', control: 'full' }));
    for (const expected of ['event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE', 'myevents json', 'event json PLAYBACK_START PLAYBACK_STOP RECORD_START RECORD_STOP']) {
      expect((await this.next()).line).toBe(expected);
      this.write(this.reply(expected.startsWith('myevents') ? '+OK Events Enabled' : '+OK event listener enabled json'));
    }
    expect((await this.next()).line).toMatch(/^linger \d+$/);
    this.write(this.reply('+OK will linger 30 seconds'));
  }

  /** The end of a channel as FreeSWITCH reports it to a lingering outbound socket. */
  hangupSequence(cause: string, running?: { app: string; uuid: string }): Buffer[] {
    const out = [this.event('CHANNEL_HANGUP', { 'Hangup-Cause': cause, 'Answer-State': 'hangup' })];
    if (running) out.push(this.event('CHANNEL_EXECUTE_COMPLETE', { Application: running.app, 'Application-UUID': running.uuid, 'Application-Response': '_none_' }));
    out.push(this.event('CHANNEL_EXECUTE_COMPLETE', { Application: 'socket', 'Application-UUID': 'fs-socket-app', 'Application-Response': '_none_' }));
    out.push(this.event('CHANNEL_STATE', { 'Channel-State': 'CS_REPORTING' }));
    out.push(this.event('CHANNEL_HANGUP_COMPLETE', { 'Hangup-Cause': cause, variable_duration: '3' }));
    out.push(encodeFrame({ kind: 'linger-notice', sessionUuid: UUID, channelName: 'sofia/internal/1001', lingerSeconds: 30 }));
    return out;
  }
}

const UUID = '1a9ffbe7-838c-47a4-9af4-49d811516f1e';
const servers: OutboundServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** The driver's server, with every call it hands over collected. */
async function driver(options: OutboundServerOptions = {}) {
  const calls: OutboundCall[] = [];
  const waiters: ((c: OutboundCall) => void)[] = [];
  const server = await startOutboundServer({ port: 0, ...options }, (c) => {
    calls.push(c);
    waiters.shift()?.(c);
  });
  servers.push(server);
  const nextCall = (): Promise<OutboundCall> => (calls.length > 0 ? Promise.resolve(calls.shift()!) : new Promise((r) => waiters.push(r)));
  return { server, nextCall };
}

/** Subscribes like the engine and keeps what arrives. */
function collect(sw: Switch, uuid: string): ChannelEvent[] {
  const events: ChannelEvent[] = [];
  sw.subscribe(uuid, (e) => events.push(e));
  return events;
}

async function until(what: string, cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(5);
  }
}

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
    expect((await fs.next()).line).toBe('connect');
    fs.write(encodeFrame({ kind: 'connect-reply', headers: [['Event-Name', 'CHANNEL_DATA'], ['Unique-ID', UUID], ['Caller-Caller-ID-Number', '+1415'], ['Caller-Destination-Number', '2000']], socketMode: 'async', control: 'full' }));
    expect((await fs.next()).line).toBe('event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE');
    fs.socket.destroy();
    await wait(300);
    expect({ handed: handed !== null, logged: warnings.some((w) => w.includes(UUID)) }).not.toEqual({ handed: false, logged: false });
  });
  it('E2: the caller is known (connect reply in), the socket drops before linger is answered: the call still reaches the engine', async () => {
    const { server, nextCall } = await driver();
    let handed: OutboundCall | null = null;
    void nextCall().then((c) => (handed = c));
    const fs = await ScriptedFs.dial(server.port);
    expect((await fs.next()).line).toBe('connect');
    fs.write(encodeFrame({ kind: 'connect-reply', headers: [['Event-Name', 'CHANNEL_DATA'], ['Unique-ID', UUID], ['Caller-Caller-ID-Number', '+1415'], ['Caller-Destination-Number', '2000']], socketMode: 'async', control: 'full' }));
    expect((await fs.next()).line).toBe('event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE');
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

function serve(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['bin/callflow.js', 'serve', ...args], { env: { ...process.env, ...env } });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(...c.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (c: Buffer) => err.push(...c.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanup.push(() => void child.kill('SIGKILL'));
  const until = async (what: () => boolean, label: string, ms = 10_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error(`serve: no ${label} within ${ms} ms\nstdout: ${out.join('\n')}\nstderr: ${err.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, out, err, exited, until };
}

function listeningPort(err: readonly string[]): number {
  const line = err.find((l) => l.startsWith('serve: listening for FreeSWITCH'))!;
  return Number(/ on [^ ;]+:(\d+);/.exec(line)![1]);
}

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
