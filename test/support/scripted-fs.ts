import { expect } from 'vitest';
import { connect, type Socket } from 'node:net';
import type { ChannelEvent, Switch } from '../../engine/switch.ts';
import { startOutboundServer, type OutboundServer, type OutboundServerOptions } from '../../integrations/freeswitch/outbound-server.ts';
import type { OutboundCall } from '../../integrations/freeswitch/outbound-session.ts';
import { CommandReader, type ClientCommand } from './esl-peer/command-reader.ts';
import { encodeFrame, type Header } from './esl-peer/wire-format.ts';

// ---------------------------------------------------------------------------------------------
// A scripted FreeSWITCH: dials the driver like `socket 127.0.0.1:<port> async full` does and
// answers exactly what each test says, using the esl-peer's byte-exact frame encoder and
// FreeSWITCH's command reader. Every byte the driver sent is kept for assertions.
// ---------------------------------------------------------------------------------------------


export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ScriptedFs {
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
  /**
   * The handshake's first step: answers `connect` with the channel's data and waits for modesl's
   * own event subscription, left unanswered (a test may drop the socket there).
   */
  async answerConnect(caller: { number?: string; name?: string } = {}): Promise<void> {
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
    expect((await this.next()).line).toBe('event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE');
  }

  async handshake(caller: { number?: string; name?: string } = {}): Promise<void> {
    await this.answerConnect(caller);
    this.write(this.reply('+OK event listener enabled json'));
    for (const expected of ['myevents json', 'event json PLAYBACK_START PLAYBACK_STOP RECORD_START RECORD_STOP']) {
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


export const UUID = '1a9ffbe7-838c-47a4-9af4-49d811516f1e';

const servers: OutboundServer[] = [];
/** Closes every driver `driver()` started: a test file's afterEach. */
export async function closeDrivers(): Promise<void> {
  for (const s of servers.splice(0)) await s.close();
}

/** The driver's server, with every call it hands over collected. */
export async function driver(options: OutboundServerOptions = {}) {
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
export function collect(sw: Switch, uuid: string): ChannelEvent[] {
  const events: ChannelEvent[] = [];
  sw.subscribe(uuid, (e) => events.push(e));
  return events;
}

export async function until(what: string, cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(5);
  }
}

