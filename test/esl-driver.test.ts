import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallControl } from '../engine/call/call-control.ts';
import { handlerKey } from '../engine/call/post-hangup.ts';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { executeCall, type ExecutionSummary } from '../engine/execution.ts';
import { next } from '../engine/executor/next.ts';
import type { CallflowModule } from '../engine/module.ts';
import { FixedClock, RandomIds, SystemClock } from '../engine/providers.ts';
import { DISCONNECT_REASON_HEADER, SYNTHESIZED_HEADER } from '../integrations/freeswitch/channel-events.ts';
import { EslAuthError, EslCommandError, EslDisconnectedError, EslListenError, UnsafeValueError } from '../integrations/freeswitch/errors.ts';
import { InboundConnection, type InboundOptions } from '../integrations/freeswitch/inbound-connection.ts';
import { startOutboundServer } from '../integrations/freeswitch/outbound-server.ts';
import type { OutboundCall } from '../integrations/freeswitch/outbound-session.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { findExecution, loadExecution, type ExecutionDetail } from '../integrations/sqlite/trace-queries.ts';
import { CommandReader, header, type ClientCommand } from './support/esl-peer/command-reader.ts';
import { encodeFrame, serializeEvent, type Header } from './support/esl-peer/wire-format.ts';
import { account, callflow, tempDir, writeJson } from './support/sim.ts';
import { runScenarioOverEslDetailed, type EslRunDeps } from './support/esl-harness.ts';
import { EslPeer, type EslFaults } from './support/esl-peer/index.ts';
import { injectionBytes } from './support/esl-peer/faults.ts';
import { createRegistry } from '../modules/index.ts';
import { SeededIds, SystemClock as RealClock } from '../engine/providers.ts';
import { VirtualClock } from '../engine/virtual-clock.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import { SqliteVoicemailStore } from '../integrations/sqlite/voicemail-store.ts';
import type { Logger } from '../engine/execution.ts';
import { testRegistry } from './support/test-modules.ts';

import { closeDrivers, collect, driver, ScriptedFs, until, UUID, wait } from './support/scripted-fs.ts';

afterEach(closeDrivers);
describe('outbound handshake and command rendering over TCP', () => {
  it('connect, myevents json, the extra events and linger; the call carries the CHANNEL_DATA', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake({ name: 'Carol Patient' });
    const call = await nextCall();
    expect(call).toMatchObject({ channelUuid: UUID, callerNumber: '+14155550100', callerName: 'Carol Patient', destination: '2000' });
    expect(call.variables['sip_from_user']).toBe('1001');
    expect(server.liveCalls()).toEqual([UUID]);
  });

  it('after CHANNEL_UUID the live call is listed under its new uuid (what show channels has), and either uuid ends it', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    await nextCall();
    const renamed = '11111111-2222-3333-4444-555555555555';
    fs.write(encodeFrame({ kind: 'event', format: 'json', headers: [['Event-Name', 'CHANNEL_UUID'], ['Unique-ID', renamed], ['Old-Unique-ID', UUID]] as Header[] }));
    await until('the new uuid', () => server.liveCalls()[0] === renamed);
    expect(server.disconnectCall(renamed, 'gone on FreeSWITCH')).toBe(true);
    await until('the call ended', () => server.liveCalls().length === 0);
  });

  it('a sendmsg per command, its reply as the CommandAck, only the engine\'s own EXECUTE events, CHANNEL_CREATE first', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const { sw } = await nextCall();
    const events = collect(sw, UUID);
    const ack = sw.execute(UUID, 'app-play-1', { app: 'playback', file: 'vm-greeting', terminators: '#' });
    const set = await fs.next();
    expect(set.line).toBe('sendmsg');
    expect(header(set.headers, 'execute-app-name')).toBe('set');
    expect(set.body).toBe('playback_terminators=#');
    const play = await fs.next();
    expect(header(play.headers, 'execute-app-name')).toBe('playback');
    expect(header(play.headers, 'Event-UUID')).toBe('app-play-1');
    expect(header(play.headers, 'execute-app-arg')).toBeUndefined();
    expect(play.body).toBe('voicemail/vm-greeting.wav');
    const setUuid = header(set.headers, 'Event-UUID')!;
    fs.write(
      fs.reply('+OK'),
      fs.event('CHANNEL_EXECUTE', { Application: 'set', 'Application-UUID': setUuid }),
      fs.event('CHANNEL_EXECUTE_COMPLETE', { Application: 'set', 'Application-UUID': setUuid }),
      fs.event('CHANNEL_PARK', {}),
      fs.event('CHANNEL_EXECUTE', { Application: 'playback', 'Application-UUID': 'app-play-1' }),
      fs.reply('+OK'),
      encodeFrame({ kind: 'event', format: 'json', headers: [['Event-Name', 'DTMF'], ['Unique-ID', 'some-other-channel'], ['DTMF-Digit', '5']] }),
      fs.event('PLAYBACK_START', { 'Playback-File-Path': 'voicemail/vm-greeting.wav' }),
      fs.event('CHANNEL_EXECUTE_COMPLETE', { Application: 'playback', 'Application-UUID': 'app-play-1', 'Application-Response': 'FILE PLAYED' }),
    );
    expect(await ack).toEqual({ ok: true });
    await until('events', () => events.length >= 4);
    expect(events.map((e) => e.name)).toEqual(['CHANNEL_CREATE', 'CHANNEL_EXECUTE', 'PLAYBACK_START', 'CHANNEL_EXECUTE_COMPLETE']);
    expect(events[0]!.headers[SYNTHESIZED_HEADER]).toBe('true');
    expect(events[0]!.headers['Caller-Caller-ID-Name']).toBe('Carol Patient');
    expect(events[3]!.headers['Application-Response']).toBe('FILE PLAYED');
    expect(events.every((e) => e.uuid === UUID)).toBe(true);
  });

  it('replies stay matched to their commands when they come after unrelated events', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const { sw } = await nextCall();
    const events = collect(sw, UUID);
    const first = sw.execute(UUID, 'app-1', { app: 'answer' });
    const second = sw.execute(UUID, 'app-2', { app: 'sleep', ms: 500 });
    await fs.next();
    await fs.next();
    // Events first, then the first reply, more events, then the second reply (refused).
    fs.write(
      fs.event('CHANNEL_STATE', { 'Channel-State': 'CS_EXECUTE' }),
      fs.event('CHANNEL_EXECUTE', { Application: 'answer', 'Application-UUID': 'app-1' }),
      fs.event('CHANNEL_ANSWER', {}),
      fs.reply('+OK'),
      fs.event('CHANNEL_EXECUTE_COMPLETE', { Application: 'answer', 'Application-UUID': 'app-1' }),
    );
    await wait(20);
    fs.write(fs.event('CHANNEL_CALLSTATE', { 'Channel-Call-State': 'ACTIVE' }), fs.reply('-ERR no channel?'));
    expect(await first).toEqual({ ok: true });
    expect(await second).toEqual({ ok: false, reason: 'no channel?', gone: false });
    await until('events', () => events.length >= 4);
    expect(events.map((e) => e.name)).toEqual(['CHANNEL_CREATE', 'CHANNEL_EXECUTE', 'CHANNEL_ANSWER', 'CHANNEL_EXECUTE_COMPLETE']);
  });

  it('a raw % in a reply header (modesl would throw URIError from the socket handler) is read as text', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const { sw } = await nextCall();
    const ack = sw.execute(UUID, 'app-1', { app: 'answer' });
    await fs.next();
    fs.write('Content-Type: command/reply\nReply-Text: -ERR 100% broken %zz\n\n');
    expect(await ack).toEqual({ ok: false, reason: '100% broken %zz', gone: false });
    // The connection is still in use afterwards.
    const again = sw.execute(UUID, 'app-2', { app: 'answer' });
    await fs.next();
    fs.write(fs.reply('-ERR invalid session id [1a9ffbe7]'));
    expect(await again).toEqual({ ok: false, reason: 'invalid session id [1a9ffbe7]', gone: true });
  });

  it('a command with no reply fails as a typed timeout; the late reply keeps the next one aligned', async () => {
    const { server, nextCall } = await driver({ replyTimeoutMs: 150 });
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const { sw } = await nextCall();
    const t0 = Date.now();
    const ack = await sw.execute(UUID, 'app-1', { app: 'answer' });
    expect(ack.ok).toBe(false);
    expect(!ack.ok && ack.reason).toMatch(/no reply to "sendmsg answer" within 150 ms/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const second = sw.execute(UUID, 'app-2', { app: 'sleep', ms: 1 });
    await fs.next();
    await fs.next();
    fs.write(fs.reply('+OK'), fs.reply('-ERR second'));
    expect(await second).toEqual({ ok: false, reason: 'second', gone: false });
  });

  it('the end of the channel: CHANNEL_DESTROY synthesized after CHANNEL_HANGUP_COMPLETE, then `exit`', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const { sw } = await nextCall();
    const events = collect(sw, UUID);
    const ack = sw.execute(UUID, 'app-h', { app: 'hangup', cause: 'USER_BUSY' });
    const h = await fs.next();
    expect(h.raw.toString()).toBe('sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n');
    fs.write(fs.reply('+OK'), ...fs.hangupSequence('USER_BUSY'));
    expect(await ack).toEqual({ ok: true });
    expect((await fs.next()).line).toBe('exit');
    fs.write(fs.reply('+OK bye'), encodeFrame({ kind: 'disconnect-notice', sessionUuid: UUID }));
    fs.socket.end();
    await until('destroy', () => events.length >= 4);
    expect(events.map((e) => e.name)).toEqual(['CHANNEL_CREATE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_DESTROY']);
    expect(events[3]!.headers[SYNTHESIZED_HEADER]).toBe('true');
    await wait(30);
    // A closed socket after the channel's end is not a disconnect.
    expect(events.some((e) => e.name === 'CHANNEL_DISCONNECTED')).toBe(false);
    expect(server.liveCalls()).toEqual([]);
    expect(await sw.execute(UUID, 'app-late', { app: 'answer' })).toMatchObject({ ok: false, gone: true });
  });

  it('a dropped socket fails pending commands at once and delivers CHANNEL_DISCONNECTED', async () => {
    const { server, nextCall } = await driver({ replyTimeoutMs: 60_000 });
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const { sw } = await nextCall();
    const events = collect(sw, UUID);
    const ack = sw.execute(UUID, 'app-1', { app: 'answer' });
    await fs.next();
    const t0 = Date.now();
    fs.socket.destroy();
    expect(await ack).toMatchObject({ ok: false, gone: true });
    expect(Date.now() - t0).toBeLessThan(1000);
    await until('disconnect', () => events.some((e) => e.name === 'CHANNEL_DISCONNECTED'));
    const d = events.find((e) => e.name === 'CHANNEL_DISCONNECTED')!;
    expect(d.headers[SYNTHESIZED_HEADER]).toBe('true');
    expect(d.headers[DISCONNECT_REASON_HEADER]).toBeTruthy();
  });

  it('a malformed frame closes that call only: CHANNEL_DISCONNECTED, other calls and the process go on', async () => {
    const { server, nextCall } = await driver();
    const bad = await ScriptedFs.dial(server.port);
    await bad.handshake();
    const badCall = await nextCall();
    const events = collect(badCall.sw, UUID);
    bad.write('Content-Type: api/response\nContent-Length: -7\n\nxyz');
    await until('disconnect', () => events.some((e) => e.name === 'CHANNEL_DISCONNECTED'));
    expect(await bad.closedWithin(1000)).toBe(true);
    const good = await ScriptedFs.dial(server.port);
    await good.handshake();
    expect((await nextCall()).channelUuid).toBe(UUID);
  });

  it('a CRLF-speaking peer (modesl never sees a frame) is given up on at the reply deadline: no call, socket closed', async () => {
    const { server, nextCall } = await driver({ replyTimeoutMs: 150 });
    let handed = 0;
    void nextCall().then(() => handed++);
    const fs = await ScriptedFs.dial(server.port);
    expect((await fs.next()).line).toBe('connect');
    fs.write(`Event-Name: CHANNEL_DATA\r\nUnique-ID: ${UUID}\r\nContent-Type: command/reply\r\nReply-Text: %2BOK%0A\r\n\r\n`);
    expect(await fs.closedWithin(1500)).toBe(true);
    expect(handed).toBe(0);
    expect(server.liveCalls()).toEqual([]);
  });

  it.each([
    ['static', 'full', 'Socket-Mode: static'],
    ['async', 'single-channel', 'Control: single-channel'],
  ] as const)('a socket in %s %s mode is refused with one log line: no call, socket closed', async (socketMode, control, named) => {
    const warnings: string[] = [];
    const { server, nextCall } = await driver({ logger: { info() {}, warn: (l) => warnings.push(l) } });
    let handed = 0;
    void nextCall().then(() => handed++);
    const fs = await ScriptedFs.dial(server.port);
    expect((await fs.next()).line).toBe('connect');
    fs.write(encodeFrame({ kind: 'connect-reply', headers: [['Event-Name', 'CHANNEL_DATA'], ['Unique-ID', UUID]], socketMode, control }));
    expect(await fs.closedWithin(1500)).toBe(true);
    expect(handed).toBe(0);
    expect(server.liveCalls()).toEqual([]);
    expect(warnings).toEqual([`outbound call (no uuid yet): the dialplan must use "socket <host>:<port> async full" (got ${named})`]);
  });

  it('an -ERR reply to connect abandons the call: one log line, no call, no command of ours, the socket closed', async () => {
    const warnings: string[] = [];
    const { server, nextCall } = await driver({ replyTimeoutMs: 300, logger: { info() {}, warn: (l) => warnings.push(l) } });
    let handed = 0;
    void nextCall().then(() => handed++);
    const fs = await ScriptedFs.dial(server.port);
    expect((await fs.next()).line).toBe('connect');
    // The channel is named and the mode is right: only the reply text refuses.
    fs.write(
      serializeEvent('plain', [
        ['Event-Name', 'CHANNEL_DATA'],
        ['Unique-ID', UUID],
        ['Caller-Caller-ID-Number', '+14155550100'],
        ['Caller-Destination-Number', '2000'],
        ['Content-Type', 'command/reply'],
        ['Reply-Text', '-ERR access denied\n'],
        ['Socket-Mode', 'async'],
        ['Control', 'full'],
      ]),
    );
    // modesl writes its own subscription from the connect reply's callback; answered, should the socket still be open.
    await until('the subscription or the close', () => fs.closed || fs.received.length >= 2);
    if (!fs.closed) fs.write(fs.reply('+OK event listener enabled json'));
    expect(await fs.closedWithin(1500)).toBe(true);
    await wait(50);
    expect(fs.received.map((c) => c.line).filter((l) => l !== 'event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE')).toEqual(['connect']);
    expect(handed).toBe(0);
    expect(server.liveCalls()).toEqual([]);
    expect(server.handshaking()).toBe(0);
    expect(warnings).toEqual(['outbound call (no uuid yet): connect refused: -ERR access denied']);
  });

  it('a busy port is a one-line typed error, not a crash', async () => {
    const { server } = await driver();
    const err = await startOutboundServer({ port: server.port }, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EslListenError);
    expect((err as EslListenError).code).toBe('EADDRINUSE');
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toContain(`127.0.0.1:${server.port}`);
  });
});

// ---------------------------------------------------------------------------------------------
// The engine on the driver, against the scripted switch.
// ---------------------------------------------------------------------------------------------

const mod = (name: string, handle: (d: Record<string, unknown>, call: CallControl) => Promise<ReturnType<typeof next.continue>>): CallflowModule<Record<string, unknown>> => ({
  name,
  summary: name,
  schema: { type: 'object' },
  handle,
});

function registry() {
  return testRegistry()
    .register(
      mod('test_set_caller', async (_d, call) => {
        await call.setVariable('caller_name', call.info.callerName);
        return next.continue();
      }),
    )
    .register(
      mod('test_playback', async (d, call) => {
        await call.playback(String(d.file ?? 'vm-greeting'));
        return next.continue();
      }),
    );
}

/** Runs the engine on a call the driver handed over, with `flow` as the callflow; returns what the step log holds. */
async function runEngine(call: OutboundCall, flow: unknown): Promise<{ summary: ExecutionSummary; detail: ExecutionDetail }> {
  const dir = tempDir();
  writeJson(join(dir, 'account.json'), account([callflow('main', flow, ['2000'])]));
  const reg = registry();
  const scenarioFile = writeJson(join(dir, 'scenario.json'), { name: 'esl', account: 'account.json', call: { from: '1', to: '2000' } });
  const loaded = loadScenario(scenarioFile, { registry: reg, validator: new SchemaValidator() });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const db = openDatabase(join(dir, 'trace.db'));
  const summary = await executeCall(
    {
      registry: reg,
      clock: new SystemClock(),
      wallClock: new FixedClock(1_700_000_000_000),
      ids: new RandomIds(),
      executionIds: new RandomIds(),
      sink: new SqliteTraceSink(db),
      source: 'freeswitch',
      recordingDir: dir,
      destroyWaitMs: 3000,
      moduleGraceMs: 3000,
    },
    {
      sw: call.sw,
      channelUuid: call.channelUuid,
      account: loaded.value.account.view,
      router: loaded.value.account.router,
      callerNumber: call.callerNumber,
      callerName: call.callerName,
      calleeNumber: call.destination,
    },
  );
  const found = findExecution(db, summary.id);
  if (!found.ok) throw new Error(found.problem);
  return { summary, detail: loadExecution(db, found.execution) };
}

/**
 * Plays a cooperative FreeSWITCH: every execute is answered +OK and completed at once, a
 * hangup ends the channel, `exit` closes. `onPlayback: 'drop'` instead starts the playback and
 * then drops the socket, as a crashed or restarted switch would.
 */
async function autopilot(fs: ScriptedFs, opts: { onPlayback?: 'complete' | 'drop' } = {}): Promise<void> {
  for (;;) {
    let c: ClientCommand;
    try {
      c = await fs.next();
    } catch {
      return;
    }
    if (c.line === 'exit') {
      fs.write(fs.reply('+OK bye'));
      fs.socket.end();
      return;
    }
    if (header(c.headers, 'call-command') === 'hangup') {
      fs.write(fs.reply('+OK'), ...fs.hangupSequence(header(c.headers, 'hangup-cause') ?? 'NORMAL_CLEARING'));
      continue;
    }
    const app = header(c.headers, 'execute-app-name') ?? '';
    const id = header(c.headers, 'Event-UUID') ?? '';
    const exec = fs.event('CHANNEL_EXECUTE', { Application: app, 'Application-UUID': id });
    if (app === 'playback' && opts.onPlayback === 'drop') {
      fs.write(fs.reply('+OK'), exec, fs.event('PLAYBACK_START', { 'Playback-File-Path': c.body ?? '' }));
      await wait(30);
      fs.socket.destroy();
      return;
    }
    const extra = app === 'answer' ? [fs.event('CHANNEL_ANSWER', {})] : [];
    fs.write(fs.reply('+OK'), exec, ...extra, fs.event('CHANNEL_EXECUTE_COMPLETE', { Application: app, 'Application-UUID': id, 'Application-Response': app === 'playback' ? 'FILE PLAYED' : '_none_' }));
  }
}

describe('the engine on the driver (scripted switch)', () => {
  it('a socket dropped mid-playback ends the execution as switch_disconnected, and post-hangup work still runs', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    await fs.handshake();
    const call = await nextCall();
    const pilot = autopilot(fs, { onPlayback: 'drop' });
    const flow = { module: 'test_on_hangup', data: { tag: 'after-drop' }, children: { _: { module: 'test_answer', data: {}, children: { _: { module: 'test_playback', data: {} } } } } };
    const t0 = Date.now();
    const { summary, detail } = await runEngine(call, flow);
    await pilot;
    expect(summary.endReason).toBe('switch_disconnected');
    expect(summary.status).toBe('completed');
    // Ended by the disconnect itself, not by the engine's destroy wait (3 s here).
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(detail.effects.map((e) => [e.module, e.status])).toEqual([['test_on_hangup', 'ok']]);
    const names = detail.events.map((e) => e.name);
    expect(names.at(-1)).toBe('CHANNEL_DISCONNECTED');
    expect(names).toContain('PLAYBACK_START');
    const playback = detail.commands.find((c) => c.app === 'playback')!;
    expect(playback.ack).toBe('+OK');
    expect(playback.error_kind).toBe('channel_gone');
  });

  it('a caller id name carrying CR/LF, % and ESL command text injects nothing and crashes nothing', async () => {
    const { server, nextCall } = await driver();
    const fs = await ScriptedFs.dial(server.port);
    const evil = 'Eve\r\n\r\nsendmsg\ncall-command: hangup\nhangup-cause: CALL_REJECTED\n\napi uuid_kill all 100% %zz ${system(id)}';
    await fs.handshake({ name: evil });
    const call = await nextCall();
    expect(call.callerName).toBe(evil);
    const pilot = autopilot(fs);
    const flow = { module: 'test_answer', data: {}, children: { _: { module: 'test_set_caller', data: {} } } };
    const { summary, detail } = await runEngine(call, flow);
    await pilot;
    // The set was refused before anything was written; the call went on and ended normally.
    const set = detail.commands.find((c) => c.app === 'set')!;
    expect(set.ack).toMatch(/^-ERR set value: contains CR, LF or NUL/);
    expect(detail.steps.map((s) => [s.module, s.outcome])).toEqual([
      ['test_answer', 'continue'],
      ['test_set_caller', 'error'],
    ]);
    expect(summary.hangupCause).toBe('NORMAL_CLEARING');
    const sent = fs.received.map((c) => [c.line, header(c.headers, 'call-command'), header(c.headers, 'execute-app-name')].filter(Boolean).join(' '));
    expect(sent).toEqual([
      'connect',
      'event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE',
      'myevents json',
      'event json PLAYBACK_START PLAYBACK_STOP RECORD_START RECORD_STOP',
      'linger 30',
      'sendmsg execute answer',
      'sendmsg hangup',
      'exit',
    ]);
    const raw = fs.raw.toString('latin1');
    for (const bad of ['CALL_REJECTED', 'uuid_kill', '100%', 'system(', 'api ']) expect(raw).not.toContain(bad);
  });
});

// ---------------------------------------------------------------------------------------------
// Inbound: a small ESL server (auth, event, api, bgapi) with the faults the tests need.
// ---------------------------------------------------------------------------------------------

interface EslServer {
  readonly port: number;
  /** Commands per accepted connection, in order. */
  readonly connections: { at: number; commands: string[]; socket: Socket }[];
  /** What `api <x>` answers (default `+OK <x>`); undefined from the function: no answer at all. */
  api: (cmd: string) => string | undefined;
  /** Connections to drop at once (counting down) before greeting. */
  refuse: number;
  greet: boolean;
  close(): Promise<void>;
}

async function eslServer(password = 'ClueCon'): Promise<EslServer> {
  const state: EslServer = {
    port: 0,
    connections: [],
    api: (cmd) => `+OK ${cmd}\n`,
    refuse: 0,
    greet: true,
    close: () =>
      new Promise((r) => {
        for (const c of state.connections) c.socket.destroy();
        server.close(() => r());
      }),
  };
  const server: Server = createServer((socket) => {
    socket.on('error', () => {});
    const conn = { at: Date.now(), commands: [] as string[], socket };
    state.connections.push(conn);
    if (state.refuse > 0) {
      state.refuse -= 1;
      socket.destroy();
      return;
    }
    const reader = new CommandReader();
    if (!state.greet) {
      // Still listens, so a test can tell that nothing was sent.
      socket.on('data', (d: Buffer) => conn.commands.push(...reader.push(d).map((c) => c.line)));
      return;
    }
    const send = (f: Parameters<typeof encodeFrame>[0]) => socket.write(encodeFrame(f));
    send({ kind: 'auth-request' });
    socket.on('data', (d: Buffer) => {
      for (const c of reader.push(d)) {
        conn.commands.push(c.line);
        const [verb = '', ...rest] = c.line.split(' ');
        const arg = rest.join(' ');
        if (verb === 'auth') {
          if (arg === password) send({ kind: 'command-reply', text: '+OK accepted' });
          else {
            send({ kind: 'command-reply', text: '-ERR invalid' });
            send({ kind: 'disconnect-notice' });
            socket.end();
          }
        } else if (verb === 'event') send({ kind: 'command-reply', text: '+OK event listener enabled json' });
        else if (verb === 'api') {
          const body = state.api(arg);
          if (body !== undefined) send({ kind: 'api-response', body });
        } else if (verb === 'bgapi') {
          const job = header(c.headers, 'Job-UUID')!;
          send({ kind: 'command-reply', text: `+OK Job-UUID: ${job}`, jobUuid: job });
          const result = arg.startsWith('originate') ? '-ERR NO_ANSWER\n' : `+OK ${arg}\n`;
          send({ kind: 'event', format: 'json', headers: [['Event-Name', 'BACKGROUND_JOB'], ['Job-UUID', job], ['Job-Command', arg]], body: result });
        } else send({ kind: 'command-reply', text: '-ERR command not found' });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  (state as { port: number }).port = (server.address() as { port: number }).port;
  return state;
}

const inbounds: InboundConnection[] = [];
const eslServers: EslServer[] = [];
afterEach(async () => {
  for (const c of inbounds.splice(0)) await c.close();
  for (const s of eslServers.splice(0)) await s.close();
});

async function inbound(server: EslServer, over: Partial<InboundOptions> = {}): Promise<InboundConnection> {
  const c = new InboundConnection({ host: '127.0.0.1', port: server.port, password: 'ClueCon', backoff: { initialMs: 50, factor: 2, maxMs: 1000 }, events: ['CHANNEL_HANGUP_COMPLETE'], ...over });
  inbounds.push(c);
  c.start();
  return c;
}

describe('inbound connection', () => {
  it('authenticates, subscribes, and returns typed api and bgapi results', async () => {
    const srv = await eslServer();
    eslServers.push(srv);
    srv.api = (cmd) => (cmd === 'nope' ? '-ERR nope Command not found!\n' : `+OK ${cmd}\n`);
    const c = await inbound(srv);
    expect(await c.ready()).toEqual({ ok: true, value: undefined });
    expect(srv.connections[0]!.commands.slice(0, 3)).toEqual(['auth ClueCon', 'event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE', 'event json BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE']);
    expect(await c.api('status')).toEqual({ ok: true, value: '+OK status\n' });
    const bad = await c.api('nope');
    expect(bad.ok === false && bad.error).toBeInstanceOf(EslCommandError);
    expect(await c.bgapi('status')).toEqual({ ok: true, value: '+OK status\n' });
    const failed = await c.originate('user/alice@example.sip.local', '&park');
    expect(failed.ok === false && failed.error.message).toMatch(/NO_ANSWER/);
    const injected = await c.api('status\n\nexit');
    expect(injected.ok).toBe(false);
    expect(srv.connections[0]!.commands).not.toContain('exit');
  });

  it.each([
    ['destination', '2000 XML other_context'],
    ['destination', '&echo()${system(id)}'],
    ['dial string', '{origination_caller_id_name=x}user/alice@example.sip.local &park() XML'],
  ])('originate refuses a %s of %j (more arguments, or an expansion) and sends no bgapi', async (named, value) => {
    const srv = await eslServer();
    eslServers.push(srv);
    const c = await inbound(srv);
    expect((await c.ready()).ok).toBe(true);
    const r = named === 'destination' ? await c.originate('user/alice@example.sip.local', value) : await c.originate(value, '&park');
    expect(r.ok === false && r.error).toBeInstanceOf(UnsafeValueError);
    expect(r.ok === false && r.error.message).toMatch(new RegExp(`^originate ${named}: `));
    expect(srv.connections[0]!.commands.filter((l) => l.startsWith('bgapi'))).toEqual([]);
  });

  it('a refused password is a final typed error: no reconnect', async () => {
    const srv = await eslServer('other');
    eslServers.push(srv);
    const c = await inbound(srv);
    const r = await c.ready();
    expect(r.ok === false && r.error).toBeInstanceOf(EslAuthError);
    await wait(300);
    expect(c.state).toBe('stopped');
    expect(srv.connections).toHaveLength(1);
  });

  it('reconnects with exponential backoff, fails pending work at once, re-subscribes and reconciles live calls', async () => {
    const srv = await eslServer();
    eslServers.push(srv);
    const ended: string[] = [];
    const c = await inbound(srv, {
      replyTimeoutMs: 60_000,
      calls: { liveCalls: () => ['chan-alive', 'chan-gone'], disconnectCall: (u) => (ended.push(u), true) },
    });
    expect((await c.ready()).ok).toBe(true);
    srv.api = (cmd) => (cmd === 'slow' ? undefined : cmd === 'show channels as json' ? JSON.stringify({ row_count: 1, rows: [{ uuid: 'chan-alive', name: 'sofia/x' }] }) : `+OK ${cmd}\n`);
    const pending = c.api('slow');
    await wait(20);
    srv.refuse = 2;
    const t0 = Date.now();
    srv.connections[0]!.socket.destroy();
    const r = await pending;
    expect(r.ok === false && r.error).toBeInstanceOf(EslDisconnectedError);
    expect(Date.now() - t0).toBeLessThan(500);
    await until('reconnected', () => c.state === 'connected', 3000);
    // Attempts after the drop: refused, refused, accepted, each later than the one before by more.
    const starts = srv.connections.slice(1).map((x) => x.at);
    expect(starts).toHaveLength(3);
    const gaps = [starts[0]! - t0, starts[1]! - starts[0]!, starts[2]! - starts[1]!];
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    const last = srv.connections.at(-1)!;
    expect(last.commands.slice(0, 3)).toEqual(['auth ClueCon', 'event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE', 'event json BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE']);
    await until('reconciled', () => ended.length > 0);
    expect(last.commands).toContain('api show channels as json');
    expect(ended).toEqual(['chan-gone']);
    expect(await c.api('status')).toEqual({ ok: true, value: '+OK status\n' });
  });

  it('a server that never greets hits the connect timeout, and the client keeps retrying', async () => {
    const srv = await eslServer();
    eslServers.push(srv);
    srv.greet = false;
    const states: string[] = [];
    const c = new InboundConnection({ host: '127.0.0.1', port: srv.port, password: 'ClueCon', connectTimeoutMs: 100, backoff: { initialMs: 20 } });
    inbounds.push(c);
    c.onState((s, why) => states.push(`${s}: ${why}`));
    c.start();
    await until('two attempts', () => srv.connections.length >= 2, 2000);
    expect(states.find((s) => s.startsWith('waiting'))).toMatch(/within 100 ms/);
    const r = await c.api('status');
    expect(r.ok === false && r.error.kind).toBe('esl_disconnected');
  });

  it('a CRLF greeting never authenticates: the connect timeout ends the wait', async () => {
    const srv = await eslServer();
    eslServers.push(srv);
    srv.greet = false;
    const c = new InboundConnection({ host: '127.0.0.1', port: srv.port, password: 'ClueCon', connectTimeoutMs: 100, backoff: { initialMs: 1000 } });
    inbounds.push(c);
    const states: string[] = [];
    c.onState((s, why) => states.push(`${s}: ${why}`));
    c.start();
    await until('connection', () => srv.connections.length === 1);
    srv.connections[0]!.socket.write('Content-Type: auth/request\r\n\r\n');
    await until('timeout', () => states.some((s) => s.startsWith('waiting')), 1000);
    expect(states.find((s) => s.startsWith('waiting'))).toMatch(/within 100 ms/);
    expect(srv.connections[0]!.commands).toEqual([]);
  });

  it('nothing listening: ECONNREFUSED is retried, not thrown', async () => {
    const srv = await eslServer();
    const port = srv.port;
    await srv.close();
    const c = new InboundConnection({ host: '127.0.0.1', port, password: 'x', backoff: { initialMs: 20 } });
    inbounds.push(c);
    const states: string[] = [];
    c.onState((s, why) => states.push(`${s}: ${why}`));
    c.start();
    await until('retries', () => states.filter((s) => s.startsWith('connecting')).length >= 3, 2000);
    expect(states.find((s) => s.startsWith('waiting'))).toMatch(/ECONNREFUSED/);
  });
});

// ---------------------------------------------------------------------------------------------
// The seed callflow (callflows/example) end to end over TCP, against the ESL peer.
// ---------------------------------------------------------------------------------------------

const example = (name: string) => join(process.cwd(), 'callflows', 'example', 'scenarios', `${name}.json`);

/** Runs an example scenario through the driver to the peer; returns the summary, the step log and what the peer received. */
async function overEsl(name: string, extra: Partial<EslRunDeps> = {}) {
  const registry = createRegistry();
  const loaded = loadScenario(example(name), { registry, validator: new SchemaValidator() });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const dir = tempDir('cf-esl-');
  const db = openDatabase(join(dir, 'trace.db'));
  const wallClock = new FixedClock(1_700_000_000_000);
  const warnings: string[] = [];
  const logger: Logger = { info() {}, warn: (l) => warnings.push(l) };
  const run = await runScenarioOverEslDetailed(loaded.value, {
    registry,
    sink: new SqliteTraceSink(db),
    wallClock,
    executionIds: new SeededIds(7),
    recordingDir: join(dir, 'recordings'),
    outbox: new OutboxStore(db, wallClock),
    voicemail: new SqliteVoicemailStore(db, join(dir, 'voicemail'), wallClock),
    logger,
    ...extra,
  });
  const found = findExecution(db, run.summary.id);
  if (!found.ok) throw new Error(found.problem);
  const sendmsgs = run.commands
    .filter((c) => c.startsWith('sendmsg'))
    .map((c) => {
      const [head, body = ''] = c.split('\n\n');
      const app = /execute-app-name: (.*)/.exec(head!)?.[1] ?? `hangup ${/hangup-cause: (.*)/.exec(head!)?.[1]}`;
      return body ? `${app} ${body}` : app;
    });
  return { ...run, detail: loadExecution(db, found.execution), sendmsgs, warnings, dir };
}

/** The path the call took, as [module, outcome]. */
const steps = (d: ExecutionDetail) => d.steps.map((s) => [s.module, s.outcome]);

describe('the seed callflow over TCP (ESL peer)', () => {
  it('Alice answers: the bridge dial string, the continue_on_fail setup, answered and bridged', async () => {
    const r = await overEsl('alice-answers');
    expect(r.sendmsgs.slice(0, 3)).toEqual([
      'set continue_on_fail=true',
      'set hangup_after_bridge=false',
      'bridge {ignore_early_media=true,originate_timeout=20}[leg_timeout=20]user/alice-desk@example.sip.local,[leg_timeout=20]user/alice-soft@example.sip.local',
    ]);
    expect(steps(r.detail)).toEqual([
      ['notification', 'continue'],
      ['user', 'stop'],
    ]);
    expect(r.detail.execution).toMatchObject({ answered: 1, call_bridged: 1, status: 'completed' });
    const bridge = r.detail.commands.find((c) => c.app === 'bridge')!;
    expect(bridge).toMatchObject({ ack: '+OK', error_kind: null });
    // 4 s of ringing, 180 s of talk.
    expect((bridge.completed_at as number) - (bridge.at as number)).toBe(184_000);
    const names = r.detail.events.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['CHANNEL_CREATE', 'CHANNEL_PROGRESS', 'CHANNEL_ANSWER', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_DESTROY']));
    expect(names.at(-1)).toBe('CHANNEL_DESTROY');
    expect(r.detail.effects.map((e) => [e.module, e.status])).toEqual([['notification', 'ok']]);
    expect(r.warnings).toEqual([]);
  });

  it('nobody answers: voicemail prompts as sound files, the recording with its terminators, a message left', async () => {
    const r = await overEsl('no-answer-voicemail');
    expect(steps(r.detail).map((s) => s[0])).toEqual(['notification', 'user', 'voicemail']);
    const bridge = r.detail.commands.find((c) => c.app === 'bridge')!;
    expect(bridge.response).toBe('_none_');
    expect(r.sendmsgs).toContain('set playback_terminators=0123456789*#');
    expect(r.sendmsgs.some((m) => /^playback voicemail\/vm-[a-z_]+\.wav$/.test(m))).toBe(true);
    const record = r.sendmsgs.find((m) => m.startsWith('record '))!;
    expect(record).toMatch(new RegExp(`^record ${r.dir}/recordings/[0-9a-f]{32}\\.wav 500 200 5$`));
    const rec = r.detail.commands.find((c) => c.app === 'record')!;
    expect(rec).toMatchObject({ ack: '+OK', error_kind: null });
    expect(r.detail.execution).toMatchObject({ message_left: 1, hangup_cause: 'NORMAL_CLEARING', status: 'completed' });
    expect(r.detail.events.map((e) => e.name)).toEqual(expect.arrayContaining(['RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP']));
  });

  it('the caller hangs up while it rings: the bridge completes at the hangup and nothing more is sent', async () => {
    const r = await overEsl('caller-gives-up');
    expect(r.detail.execution).toMatchObject({ hangup_cause: 'ORIGINATOR_CANCEL', end_reason: 'channel_gone', answered: 0 });
    expect(r.detail.commands.map((c) => [c.app, c.ack, c.completed_at! as number - (c.at as number)])).toEqual([['bridge', '+OK', 8000]]);
    expect(r.sendmsgs.at(-1)).toMatch(/^bridge /);
    expect(r.commands.at(-1)).toMatch(/^exit/);
    const names = r.detail.events.map((e) => e.name);
    expect(names.slice(-3)).toEqual(['CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_DESTROY']);
  });

  it('the socket dropped mid-playback: switch_disconnected, and the notification still goes out', async () => {
    const r = await overEsl('no-answer-voicemail', { faults: { drop: { when: { event: 'PLAYBACK_START' }, how: 'reset' } } });
    expect(r.summary.endReason).toBe('switch_disconnected');
    expect(r.detail.execution).toMatchObject({ end_reason: 'switch_disconnected', status: 'completed' });
    const last = r.detail.events.at(-1)!;
    expect(last.name).toBe('CHANNEL_DISCONNECTED');
    expect(JSON.parse(last.headers as string)[SYNTHESIZED_HEADER]).toBe('true');
    // A dropped socket leaves the cause UNSPECIFIED: the message must be queued all the same.
    expect(r.detail.effects.map((e) => [e.module, e.status])).toEqual([['notification', 'ok']]);
    expect(JSON.parse(r.detail.effects[0]!.detail as string).queued).toHaveLength(1);
    expect(r.detail.messages).toHaveLength(1);
    const playback = r.detail.commands.find((c) => c.app === 'playback')!;
    expect(playback.error_kind).toBe('channel_gone');
  });

  it('replies held behind events, and a raw % in an event envelope, change nothing the engine decides', async () => {
    const clean = await overEsl('alice-answers');
    const faults: EslFaults = { delayReply: { command: 'sendmsg', events: 2, times: 3 }, inject: { afterFrames: 8, what: 'raw-percent-event' } };
    const faulted = await overEsl('alice-answers', { faults });
    const view = (d: ExecutionDetail) => ({
      steps: d.steps.map((s) => [s.module, s.outcome, s.reason]),
      commands: d.commands.map((c) => [c.app, c.args, c.ack, c.response, c.error_kind, c.at, c.completed_at]),
      events: d.events.map((e) => [e.name, e.at]),
    });
    expect(view(faulted.detail)).toEqual(view(clean.detail));
    // The driver's own Event-UUIDs (its `set`s) are random; everything else on the wire is the same.
    // The injected frame did reach the driver (and was read, not thrown on).
    expect(faulted.server.wireStats().bytesIn - clean.server.wireStats().bytesIn).toBe(injectionBytes('raw-percent-event').length);
    expect(faulted.warnings).toEqual([]);
    const wire = (cmds: string[]) => cmds.join('').replace(/Event-UUID: [0-9a-f-]{36}/g, 'Event-UUID: <id>');
    expect(wire(faulted.commands)).toEqual(wire(clean.commands));
  });

  it('messages cut into 1..7-byte pieces still make the same call', async () => {
    const clean = await overEsl('caller-gives-up');
    const split = await overEsl('caller-gives-up', { faults: { split: { seed: 5, maxBytes: 7 } } });
    expect(split.detail.commands.map((c) => [c.app, c.args, c.ack, c.response])).toEqual(clean.detail.commands.map((c) => [c.app, c.args, c.ack, c.response]));
    expect(split.detail.execution).toMatchObject({ hangup_cause: 'ORIGINATOR_CANCEL', end_reason: 'channel_gone' });
  });
});

describe('inbound connection against the ESL peer', () => {
  it('api, show channels, bgapi; after a reset: reconnect with backoff, the subscription sent again', async () => {
    const registry = createRegistry();
    const loaded = loadScenario(example('alice-answers'), { registry, validator: new SchemaValidator() });
    if (!loaded.ok) throw new Error('scenario');
    const clock = new VirtualClock(0);
    const peer = new EslPeer({ clock, ids: new SeededIds(1), scenario: loaded.value.scenario, account: loaded.value.account.view, faults: { refuseInbound: 0 } });
    const port = await peer.listen();
    const c = new InboundConnection({ host: '127.0.0.1', port, password: 'ClueCon', backoff: { initialMs: 30 }, events: ['CHANNEL_HANGUP_COMPLETE'] });
    inbounds.push(c);
    try {
      c.start();
      expect(await c.ready()).toEqual({ ok: true, value: undefined });
      const status = await c.api('status');
      expect(status.ok && status.value).toMatch(/UP/);
      const channels = await c.showChannels();
      expect(channels).toEqual({ ok: true, value: [] });
      const exists = await c.uuidExists('00000000-0000-4000-8000-000000000000');
      expect(exists).toEqual({ ok: true, value: false });
      // bgapi: the reply carries a Job-UUID, the result comes as that job's BACKGROUND_JOB event.
      let job: Awaited<ReturnType<typeof c.bgapi>> | undefined;
      void c.bgapi('status').then((r) => (job = r));
      // The peer runs the job on its (virtual) clock, a moment after the reply: let that moment pass.
      await until('BACKGROUND_JOB', () => (clock.advance(), job !== undefined), 3000);
      expect(job!.ok && job!.value).toMatch(/UP/);
      const states: string[] = [];
      const at: number[] = [];
      c.onState((s) => {
        states.push(s);
        at.push(Date.now());
      });
      peer.drop('reset', 'inbound');
      await until('reconnected', () => states.includes('connected'), 3000);
      expect(states[0]).toBe('waiting');
      // Not at once: after the backoff's first delay.
      expect(at[states.indexOf('connected')]! - at[0]!).toBeGreaterThanOrEqual(25);
      const subs = peer.commandsReceived().filter((x) => x.startsWith('event json BACKGROUND_JOB CHANNEL_HANGUP_COMPLETE'));
      expect(subs).toHaveLength(2);
      expect((await c.api('version')).ok).toBe(true);
    } finally {
      await c.close();
      await peer.close();
    }
  });
});
