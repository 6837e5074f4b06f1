import type { EventEmitter } from 'node:events';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountView } from '../engine/call/account-view.ts';
import { SeededIds } from '../engine/providers.ts';
import { VirtualClock } from '../engine/virtual-clock.ts';
import { readTranscript, type TranscriptRecord } from '../integrations/freeswitch/transcript.ts';
import type { Scenario } from '../integrations/simulator/scenario-schema.ts';
import { CommandReader, header } from './support/esl-peer/command-reader.ts';
import { ClientSockets, runUntil } from './support/esl-peer/harness.ts';
import { EslPeer, type DialOptions, type EslFaults, type EslPeerOptions } from './support/esl-peer/index.ts';
import { RawEslClient, RawOutboundListener } from './support/esl-peer/raw-client.ts';
import { parseDialString, resolveLeg } from './support/esl-peer/dial-string.ts';
import { decodeFrame } from './support/esl-peer/read-frames.ts';
import { urlDecode, urlEncode } from './support/esl-peer/url-encoding.ts';
import { encodeFrame, type Header, type ServerFrame } from './support/esl-peer/wire-format.ts';

// --- modesl, typed for what these tests use (the package ships no typings) ----------------------

interface EslEvent {
  getHeader(name: string): string | null;
  getBody(): string;
}
interface EslConnection extends EventEmitter {
  socket: Socket | null;
  sendRecv(command: string, cb?: (e: EslEvent) => void): void;
  api(command: string, args: string, cb: (e: EslEvent) => void): void;
  bgapi(command: string, args: string, cb: (e: EslEvent) => void): void;
  events(type: string, names: string, cb?: (e: EslEvent) => void): void;
  execute(app: string, arg: string, cb?: (e: EslEvent) => void): string;
  getInfo(): EslEvent;
  disconnect(): void;
}
interface Modesl {
  Connection: new (host: string, port: number, password: string, onReady?: () => void) => EslConnection;
  Server: new (opts: { server: Server; myevents?: boolean }, onReady?: () => void) => EventEmitter;
}
const esl = createRequire(import.meta.url)('modesl') as Modesl;

// --- fixtures -----------------------------------------------------------------------------------

const FIXTURES = join(process.cwd(), '..', 'shared', 'fixtures', 'freeswitch');
const transcripts = readdirSync(FIXTURES).filter((f) => f.endsWith('.txt') && f !== 'README.md');

function scenario(over: Partial<Scenario> = {}): Scenario {
  return {
    name: 'esl-peer',
    account: 'account.json',
    seed: 1,
    start_time: '2026-11-27T07:21:16Z',
    max_call_s: 3600,
    call: { from: '5551234', caller_id_name: 'Outbound Fixture', to: '1000' },
    devices: {},
    caller: { speaks_s: 0, dtmf: [] },
    callee: {},
    prompts: { default_s: 1, durations_s: {} },
    ...over,
  };
}

const account = new AccountView({
  file: 'account.json',
  account: { id: 'acc-1', name: 'Test', realm: 'test.local', timezone: 'UTC' },
  users: [],
  devices: [
    { id: 'alice-desk', owner_id: 'alice', sip: { username: 'alice-desk' } },
    { id: 'bob-desk', owner_id: 'bob', sip: { username: 'bob-desk', realm: 'bob.example' } },
  ],
  vmboxes: [],
  notificationTemplates: [],
  callflows: [],
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const get = (headers: readonly Header[], name: string): string | undefined => headers.find(([n]) => n === name)?.[1];
const sendmsg = (app: string, arg?: string, eventUuid?: string): string =>
  `sendmsg\ncall-command: execute\nexecute-app-name: ${app}\n${arg === undefined ? '' : `execute-app-arg: ${arg}\n`}${eventUuid ? `Event-UUID: ${eventUuid}\n` : ''}\n`;

function newPeer(sc: Scenario, extra: Partial<EslPeerOptions> = {}): { peer: EslPeer; clock: VirtualClock } {
  const clock = new VirtualClock(Date.parse(sc.start_time));
  const peer = new EslPeer({ clock, ids: new SeededIds(1), scenario: sc, account, ...extra });
  cleanups.push(() => peer.close());
  return { peer, clock };
}

/** A call dialled to a raw client: `c` is FreeSWITCH's outbound socket as the client sees it. */
async function outboundCall(sc = scenario(), extra: Partial<EslPeerOptions> = {}, dial: DialOptions = {}) {
  const { peer, clock } = newPeer(sc, extra);
  const listener = await RawOutboundListener.open();
  cleanups.push(() => listener.close());
  const uuid = await peer.dial('127.0.0.1', listener.port, dial);
  const c = await waitFor(() => listener.clients[0]);
  const run = (cond: () => boolean): Promise<void> => runUntil(clock, peer, () => listener.sockets.stats(), cond);
  /** Sends a command and waits for its reply (command/reply, api/response or the connect dump). */
  const command = async (text: string): Promise<ServerFrame | null> => {
    const before = replyCount(c);
    c.send(text);
    await run(() => replyCount(c) > before || c.ended);
    return lastReply(c);
  };
  return { peer, clock, listener, c, uuid, run, command };
}

async function waitFor<T>(f: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('waitFor: timed out');
}

const isReply = (f: ServerFrame | null): boolean => f?.kind === 'command-reply' || f?.kind === 'api-response' || f?.kind === 'connect-reply';
const replyCount = (c: RawEslClient): number => c.frames.filter(isReply).length;
const lastReply = (c: RawEslClient): ServerFrame | null => [...c.frames].reverse().find(isReply) ?? null;

/** A label per server message: what a client would tell apart. */
function label(f: ServerFrame | null): string {
  if (!f) return 'undecodable';
  switch (f.kind) {
    case 'event': {
      const app = get(f.headers, 'Application');
      return `${get(f.headers, 'Event-Name')}${app ? `/${app}` : ''}`;
    }
    case 'command-reply':
      return `reply ${f.text.startsWith('+OK Job-UUID') ? '+OK Job-UUID' : f.text}`;
    default:
      return f.kind;
  }
}

// --- 1. the wire format against the recorded sessions -------------------------------------------

describe('encoder against the FreeSWITCH transcripts', () => {
  it('re-encodes every recorded server message byte for byte', () => {
    let reproduced = 0;
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    for (const name of transcripts) {
      for (const r of readTranscript(join(FIXTURES, name)).filter((x) => x.dir === 'S->C')) {
        const d = decodeFrame(r.bytes);
        if (!d.ok) {
          failures.push(`${name} #${r.n}: ${d.reason}`);
          continue;
        }
        if (!encodeFrame(d.frame).equals(r.bytes)) {
          failures.push(`${name} #${r.n}: ${d.frame.kind} re-encodes differently`);
          continue;
        }
        reproduced++;
        const k = d.frame.kind === 'event' ? `event-${d.frame.format}` : d.frame.kind;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
    }
    // Every message kind FreeSWITCH sent is covered, none is skipped.
    expect(failures).toEqual([]);
    expect(reproduced).toBe(772);
    expect(Object.fromEntries(kinds)).toEqual({
      'auth-request': 15,
      'command-reply': 109,
      'connect-reply': 5,
      'api-response': 20,
      'event-plain': 502,
      'event-json': 72,
      'event-xml': 8,
      'disconnect-notice': 20,
      'linger-notice': 3,
      'rude-rejection': 1,
      log: 17,
    });
  });

  it('keeps duplicate headers in order (Hangup-Cause twice in CHANNEL_HANGUP_COMPLETE)', () => {
    const r = readTranscript(join(FIXTURES, 'outbound-call-lifecycle.txt')).find((x) => x.dir === 'S->C' && x.n === 29)!;
    const d = decodeFrame(r.bytes);
    expect(d.ok && d.frame.kind === 'event' && d.frame.headers.filter(([n]) => n === 'Hangup-Cause').length).toBe(2);
  });

  it('reads every recorded client command as exactly one command, in one piece and byte by byte', () => {
    let count = 0;
    for (const name of transcripts) {
      const fromClient = readTranscript(join(FIXTURES, name)).filter((x): x is TranscriptRecord => x.dir === 'C->S');
      for (const r of fromClient) {
        const whole = new CommandReader().push(r.bytes);
        expect(whole, `${name} #${r.n}`).toHaveLength(1);
        expect(whole[0]!.raw.equals(r.bytes), `${name} #${r.n}`).toBe(true);
        const reader = new CommandReader();
        const pieces = [...r.bytes].flatMap((b) => reader.push(Buffer.from([b])));
        expect(pieces.map((c) => [c.line, c.headers, c.body])).toEqual(whole.map((c) => [c.line, c.headers, c.body]));
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
  });
});

describe('framing details', () => {
  it('URL-encodes like switch_url_encode: the unsafe set, bytes outside 0x20-0x7E, existing %XX kept', () => {
    expect(urlEncode('hello world%20 50%')).toBe('hello%20world%20%2050%25');
    expect(urlEncode('a\r\nb"#&+:;<=>?@[\\]^`{|}')).toBe('a%0D%0Ab%22%23%26%2B%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D');
    expect(urlEncode("/,()'!*~")).toBe("/,()'!*~");
    expect(urlEncode('José')).toBe('Jos%C3%A9');
    expect(urlEncode('%2a')).toBe('%252a'); // lower-case hex is not an escape to FreeSWITCH
    expect(urlDecode('Jos%C3%A9%20x+y')).toBe('José x+y');
  });

  it('serializes empty values as _undef_ in plain events, raw in JSON, with the body in _body', () => {
    const plain = encodeFrame({ kind: 'event', format: 'plain', headers: [['Event-Name', 'CUSTOM'], ['Empty', '']], body: 'hi\n' }).toString();
    expect(plain).toBe('Content-Length: 56\nContent-Type: text/event-plain\n\nEvent-Name: CUSTOM\nEmpty: _undef_\nContent-Length: 3\n\nhi\n');
    const json = encodeFrame({ kind: 'event', format: 'json', headers: [['A', 'x y'], ['A', '"q"']], body: 'b' }).toString();
    expect(json.endsWith('{"A":"x y","A":"\\"q\\"","Content-Length":"1","_body":"b"}')).toBe(true);
  });

  it('reads client commands: leading blank lines skipped, \\r ignored, a Content-Length body, several per chunk', () => {
    const r = new CommandReader();
    const got = r.push(Buffer.from('\r\n\nauth ClueCon\r\n\r\nsendmsg\ncall-command: execute\nexecute-app-name: set\nContent-Type: text/plain\nContent-Length: 5\n\na=b\nxapi status\n\n'));
    expect(got.map((c) => c.line)).toEqual(['auth ClueCon', 'sendmsg', 'api status']);
    expect(got[1]!.body).toBe('a=b\nx');
    expect(header(got[1]!.headers, 'EXECUTE-APP-NAME')).toBe('set');
  });
});

describe('dial strings', () => {
  it('reads {globals}, [per-leg] variables, `,` and `|`, and resolves user/<name>@<realm> to the device of that realm', () => {
    const d = parseDialString('{ignore_early_media=true,originate_timeout=20}[leg_timeout=5]user/alice-desk@test.local,[leg_delay_start=2,x=a|b]user/bob-desk@bob.example');
    expect(d.sequential).toBe(false);
    expect([...d.globals]).toEqual([['ignore_early_media', 'true'], ['originate_timeout', '20']]);
    expect(d.legs.map((l) => [l.endpoint, [...l.vars]])).toEqual([
      ['user/alice-desk@test.local', [['leg_timeout', '5']]],
      ['user/bob-desk@bob.example', [['leg_delay_start', '2'], ['x', 'a|b']]],
    ]);
    expect(d.legs.map((l) => resolveLeg(l, d.globals, account))).toEqual([
      { ok: true, endpoint: { deviceId: 'alice-desk', ownerId: 'alice', username: 'alice-desk', realm: 'test.local', delaySeconds: 0, timeoutSeconds: 5 } },
      { ok: true, endpoint: { deviceId: 'bob-desk', ownerId: 'bob', username: 'bob-desk', realm: 'bob.example', delaySeconds: 2, timeoutSeconds: 0 } },
    ]);
    const seq = parseDialString('user/a@test.local|error/user_busy');
    expect(seq.sequential).toBe(true);
    expect(seq.legs.map((l) => resolveLeg(l, seq.globals, account))).toEqual([
      { ok: false, cause: 'SUBSCRIBER_ABSENT', endpoint: 'user/a@test.local' },
      { ok: false, cause: 'USER_BUSY', endpoint: 'error/user_busy' },
    ]);
  });

  it("splits as switch_separate_string: not after a `\\`, not between `'` quotes; then unescapes and unquotes each part", () => {
    const escaped = parseDialString('{ignore_early_media=true}user/a\\,user/b@r');
    expect(escaped.legs.map((l) => l.endpoint)).toEqual(['user/a,user/b@r']);
    // Quotes shield one split only: the `|` split removes them before the `,` split.
    expect(parseDialString("user/a@test.local|'user/b,user/c'@r").legs.map((l) => l.endpoint)).toEqual(['user/a@test.local', 'user/b', 'user/c@r']);
    expect(parseDialString("'user/b|user/c'@r").legs.map((l) => l.endpoint)).toEqual(['user/b|user/c@r']);
    // A lone quote opens nothing; a quoted variable value keeps its separators.
    expect(parseDialString("user/o'dev@r,user/b@r").legs.map((l) => l.endpoint)).toEqual(["user/o'dev@r", 'user/b@r']);
    expect([...parseDialString("{x='a,b',y=c\\,d}user/a@r").globals]).toEqual([['x', 'a,b'], ['y', 'c,d']]);
  });
});

// --- 2. outbound mode ---------------------------------------------------------------------------

/** The channel events of one call in a recorded outbound session (plain events, in order). */
function recordedOutbound(file: string): { frames: (ServerFrame | null)[]; commands: Buffer[] } {
  const records = readTranscript(join(FIXTURES, file));
  return {
    frames: records.filter((r) => r.dir === 'S->C').map((r) => {
      const d = decodeFrame(r.bytes);
      return d.ok ? d.frame : null;
    }),
    commands: records.filter((r) => r.dir === 'C->S').map((r) => r.bytes),
  };
}

interface ReplayCase {
  readonly file: string;
  readonly peer?: Partial<EslPeerOptions>;
  readonly dial?: DialOptions;
  /** Recorded client commands the peer cannot take the same way (uuid_recv_dtmf: the simulator's caller presses keys itself). */
  readonly skip?: (command: string) => boolean;
  /** Recorded server messages that only answer what was skipped. */
  readonly unanswered?: (f: ServerFrame | null) => boolean;
}

const REPLAYS: readonly ReplayCase[] = [
  {
    file: 'outbound-call-lifecycle.txt',
    skip: (c) => c.startsWith('api uuid_recv_dtmf'),
    unanswered: (f) => f?.kind === 'api-response' || (f?.kind === 'event' && get(f.headers, 'Event-Name') === 'DTMF'),
  },
  // No linger, and this run of FreeSWITCH delivered everything up to CHANNEL_HANGUP_COMPLETE first.
  { file: 'outbound-bgapi-job-owner.txt', peer: { noLingerTail: 'delivered' } },
  { file: 'outbound-remote-hangup-linger-json.txt' },
  { file: 'outbound-static-single-channel.txt', dial: { socketMode: 'static', control: 'single-channel', variables: { test_case: 'outbound_esl_static' } } },
];

/**
 * Replays a recorded outbound session: the recorded client's own bytes, each sent at its recorded
 * time (on the virtual clock, from the first command), and a `uuid_kill` NOTE (the far end hanging
 * up) done through an inbound connection at its time.
 */
async function replay(rc: ReplayCase) {
  const records = readTranscript(join(FIXTURES, rc.file));
  const call = await outboundCall(scenario(), rc.peer ?? {}, rc.dial ?? {});
  const { c, run, clock, peer, listener } = call;
  const first = records.find((r) => r.dir === 'C->S')!.at;
  const t0 = clock.now();
  const waitUntil = async (at: number): Promise<void> => {
    const due = t0 + Math.round((at - first) * 1000);
    if (clock.now() >= due) return;
    let reached = false;
    clock.setTimeout(() => (reached = true), due - clock.now());
    await run(() => reached);
  };
  let inbound: RawEslClient | null = null;
  for (const r of records.filter((x) => x.at >= first)) {
    const text = r.bytes.toString();
    if (r.dir === 'NOTE' && text.includes('uuid_kill')) {
      await waitUntil(r.at);
      inbound ??= await RawEslClient.connect(await peer.listen(), listener.sockets);
      inbound.send(`auth ClueCon\n\napi uuid_kill ${call.uuid} ${/uuid_kill \S+ (\S+)/.exec(text)![1]}\n\n`);
      await run(() => inbound!.frames.some((f) => f?.kind === 'api-response'));
    }
    if (r.dir !== 'C->S' || rc.skip?.(text)) continue;
    await waitUntil(r.at);
    const before = replyCount(c);
    c.send(r.bytes);
    await run(() => replyCount(c) > before || c.ended);
  }
  await run(() => c.ended);
  const recorded = records.filter((r) => r.dir === 'S->C').map((r) => {
    const d = decodeFrame(r.bytes);
    return d.ok ? d.frame : null;
  });
  return { ...call, recorded: recorded.filter((f) => !rc.unanswered?.(f)) };
}

const shape = (h: readonly Header[]): string[] => h.map(([n]) => n).filter((n) => !/^(variable_|Caller-|Other-)/.test(n));
const states = (h: readonly Header[]): (string | undefined)[] =>
  ['Channel-State', 'Channel-State-Number', 'Channel-Call-State', 'Answer-State', 'Hangup-Cause'].map((n) => get(h, n));

describe('outbound: the recorded sessions replayed against the peer', () => {
  for (const rc of REPLAYS) {
    it(`${rc.file}: the same messages in the same order, events with the recorded layout and states`, async () => {
      const { c, recorded, uuid } = await replay(rc);
      expect(c.frames.map(label)).toEqual(recorded.map(label));
      expect(c.frames.map(label)).not.toContain('CHANNEL_DESTROY');
      const ours = c.frames.flatMap((f) => (f?.kind === 'event' ? [f] : []));
      const theirs = recorded.flatMap((f) => (f?.kind === 'event' ? [f] : []));
      ours.forEach((f, i) => {
        const t = theirs[i]!;
        expect(f.format, label(f)).toBe(t.format);
        expect(shape(f.headers), label(f)).toEqual(shape(t.headers));
        if (get(f.headers, 'Unique-ID') !== undefined) {
          expect(states(f.headers), label(f)).toEqual(states(t.headers));
          expect(get(f.headers, 'Unique-ID')).toBe(uuid);
        } else expect(get(f.headers, 'Job-Owner-UUID'), label(f)).toBe(uuid);
      });
      // The connect reply: CHANNEL_DATA, the Channel-* profile, channel data, variables, then the reply headers.
      const [dump, recordedDump] = [c.frames[0], recorded[0]];
      if (dump?.kind !== 'connect-reply' || recordedDump?.kind !== 'connect-reply') throw new Error('no connect reply');
      expect(shape(dump.headers).slice(0, 14)).toEqual(shape(recordedDump.headers).slice(0, 14));
      expect(c.messages[0]!.toString().endsWith(`Reply-Text: %2BOK%0A\nSocket-Mode: ${recordedDump.socketMode}\nControl: ${recordedDump.control}\n\n`)).toBe(true);
    });
  }
});

describe('outbound: time and sequence', () => {
  it('stamps events with the virtual clock and an increasing Event-Sequence', async () => {
    const { c, command, run, clock } = await outboundCall();
    await command('connect\n\n');
    await command('myevents\n\n');
    await command(sendmsg('answer'));
    await command(sendmsg('playback', 'vm-greeting'));
    await run(() => c.events().filter((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE').length === 2);
    const events = c.events();
    const seqs = events.map((e) => Number(get(e.headers, 'Event-Sequence')));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const last = events[events.length - 1]!;
    expect(get(last.headers, 'Event-Date-Timestamp')).toBe(String(clock.now() * 1000));
    expect(clock.now() - Date.parse('2026-11-27T07:21:16Z')).toBe(1000); // the prompt's second, on virtual time
    expect(get(last.headers, 'Event-Date-GMT')).toBe('Fri, 27 Nov 2026 07:21:17 GMT');
  });
});

describe('outbound: events shaped like outbound-record-bridge.txt', () => {
  it('answer, playback, record, a bridge and a hangup give the recorded header layout', async () => {
    const recorded = recordedOutbound('outbound-record-bridge.txt').frames.flatMap((f) => (f?.kind === 'event' ? [f.headers] : []));
    const sc = scenario({ devices: { 'alice-desk': { action: 'answer', after_s: 1, hangup_after_s: 1 } }, caller: { speaks_s: 3, dtmf: [] } });
    const { c, command, run } = await outboundCall(sc);
    await command('connect\n\n');
    await command('myevents\n\n');
    await command('event plain RECORD_START RECORD_STOP PLAYBACK_START PLAYBACK_STOP CHANNEL_CALLSTATE\n\n');
    await command('linger 3\n\n');
    for (const [app, arg] of [['answer'], ['playback', 'tone_stream://%(1000,0,440)'], ['record', '/rec/fs-fixture-record.wav 2'], ['bridge', 'user/alice-desk@test.local'], ['hangup', 'NORMAL_CLEARING']]) {
      await command(sendmsg(app!, arg));
    }
    await run(() => c.frames.some((f) => f?.kind === 'linger-notice'));
    const shape = (h: readonly Header[]): string[] => h.map(([n]) => n).filter((n) => !/^(variable_|Caller-|Other-)/.test(n));
    const twin = (h: readonly Header[]): readonly Header[] | undefined => {
      const named = recorded.filter((r) => get(r, 'Event-Name') === get(h, 'Event-Name'));
      // The recorded event from the same application when there is one (record, not record_session).
      const during = named.filter((r) => get(r, 'variable_current_application') === get(h, 'variable_current_application'));
      const same = during.length > 0 ? during : named;
      const alike = (r: readonly Header[]): boolean => ['Application-Data', 'Hangup-Cause'].every((n) => (get(r, n) === undefined) === (get(h, n) === undefined));
      const app = get(h, 'Application');
      return same.find((r) => (app === undefined || get(r, 'Application') === app) && alike(r)) ?? named.find(alike);
    };
    const events = c.events();
    expect(new Set(events.map((e) => e.name)).size).toBeGreaterThanOrEqual(14);
    for (const e of events) {
      const t = twin(e.headers);
      expect(t, e.name).toBeDefined();
      expect(shape(e.headers), `${e.name} ${get(e.headers, 'Application') ?? ''}`).toEqual(shape(t!));
    }
    const recordStop = events.find((e) => e.name === 'RECORD_STOP')!;
    expect(get(recordStop.headers, 'variable_record_ms')).toBe('2000');
    const bridge = events.find((e) => e.name === 'CHANNEL_BRIDGE')!;
    expect(bridge.headers.filter(([n]) => n.startsWith('Other-Leg-')).map(([n]) => n)).toEqual(
      twin(bridge.headers)!.filter(([n]) => n.startsWith('Other-Leg-') && !n.startsWith('Other-Leg-Callee')).map(([n]) => n),
    );
  });
});

describe('outbound: event formats', () => {
  it('`event json` switches every later event of the socket to JSON, myevents ones included', async () => {
    const { c, command, run } = await outboundCall();
    await command('connect\n\n');
    await command('myevents\n\n');
    await command(sendmsg('answer'));
    await run(() => c.events().some((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE'));
    expect(await command('event json PLAYBACK_START\n\n')).toEqual({ kind: 'command-reply', text: '+OK event listener enabled json' });
    await command(sendmsg('playback', 'vm-greeting'));
    await run(() => c.events().filter((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE').length === 2);
    const formats = c.frames.flatMap((f) => (f?.kind === 'event' ? [`${get(f.headers, 'Event-Name')} ${f.format}`] : []));
    expect(formats).toEqual([
      'CHANNEL_PARK plain', 'CHANNEL_EXECUTE plain', 'CHANNEL_ANSWER plain', 'CHANNEL_EXECUTE_COMPLETE plain',
      'CHANNEL_EXECUTE json', 'PLAYBACK_START json', 'CHANNEL_EXECUTE_COMPLETE json',
    ]);
  });
});

describe('outbound: modesl esl.Server talks to the peer', () => {
  it('connect, myevents, linger, answer + playback completed by Application-UUID, hangup ending with the linger notice', async () => {
    const { peer, clock } = newPeer(scenario());
    const net = createServer();
    const sockets = new ClientSockets();
    net.on('connection', (s: Socket) => sockets.add(s));
    await new Promise<void>((r) => net.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => net.close(() => r())));
    const server = new esl.Server({ server: net, myevents: true });
    const run = (cond: () => boolean): Promise<void> => runUntil(clock, peer, () => sockets.stats(), cond);

    const names: string[] = [];
    const contentTypes = new Set<string>();
    const completed: { app: string | null; appUuid: string | null; sent: string }[] = [];
    let lingerReply: string | null = null;
    let notice: Record<string, string> | null = null;
    let conn: EslConnection | null = null;
    server.on('connection::ready', (c: EslConnection) => {
      conn = c;
      c.on('error', () => {});
      c.on('esl::event::**', function (this: { event: string }, _e: EslEvent, headers: Record<string, string>) {
        names.push(this.event.split('::')[2] ?? this.event);
        if (headers['Content-Type']?.startsWith('text/event')) contentTypes.add(headers['Content-Type']);
      });
      c.on('esl::event::disconnect::notice', (_e: EslEvent, headers: Record<string, string>) => (notice = headers));
      c.sendRecv('linger', (r) => (lingerReply = r.getHeader('Reply-Text')));
      const answerUuid = c.execute('answer', '', (e) => {
        completed.push({ app: e.getHeader('Application'), appUuid: e.getHeader('Application-UUID'), sent: answerUuid });
        const playUuid = c.execute('playback', 'vm-greeting', (p) => completed.push({ app: p.getHeader('Application'), appUuid: p.getHeader('Application-UUID'), sent: playUuid }));
      });
    });
    const uuid = await peer.dial('127.0.0.1', (net.address() as { port: number }).port);
    await run(() => completed.length === 2);
    expect(lingerReply).toBe('+OK will linger');
    expect(completed.map((x) => x.app)).toEqual(['answer', 'playback']);
    for (const x of completed) expect(x.appUuid).toBe(x.sent);
    expect(conn!.getInfo().getHeader('Unique-ID')).toBe(uuid);
    // modesl subscribes `event json ...` before `myevents`, which keeps the json format, as in FreeSWITCH.
    expect([...contentTypes]).toEqual(['text/event-json']);

    conn!.execute('hangup', 'NORMAL_CLEARING');
    await run(() => notice !== null);
    expect(notice).toMatchObject({ 'Content-Disposition': 'linger', 'Controlled-Session-UUID': uuid, 'Linger-Time': '-1' });
    const tail = names.slice(names.lastIndexOf('command') + 1);
    expect(tail.filter((n) => n !== 'command')).toEqual([
      'CHANNEL_EXECUTE', 'CHANNEL_HANGUP', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE',
      'CHANNEL_STATE', 'CHANNEL_STATE', 'CHANNEL_HANGUP_COMPLETE', 'disconnect',
    ]);
    expect(names).not.toContain('CHANNEL_DESTROY');
    expect(peer.liveChannels()).toEqual([uuid]); // the session lives while the socket lingers
    conn!.disconnect();
    await run(() => peer.liveChannels().length === 0);
  });
});

// --- 3. inbound mode ----------------------------------------------------------------------------

describe('inbound: modesl esl.Connection talks to the peer', () => {
  async function inbound(password = 'ClueCon', sc = scenario()) {
    const { peer, clock } = newPeer(sc);
    const port = await peer.listen();
    const sockets = new ClientSockets();
    const run = (cond: () => boolean): Promise<void> => runUntil(clock, peer, () => sockets.stats(), cond);
    let ready = false;
    const conn = new esl.Connection('127.0.0.1', port, password, () => (ready = true));
    conn.on('error', () => {});
    const socket = conn.socket!;
    sockets.add(socket);
    cleanups.push(() => {
      socket.destroy();
    });
    return { peer, clock, conn, run, isReady: () => ready, sockets };
  }

  it('authenticates, answers api (status, uuid_exists, show channels as json, unknown) and bgapi', async () => {
    const { peer, conn, run, isReady } = await inbound();
    await run(isReady);
    const listener = await RawOutboundListener.open();
    cleanups.push(() => listener.close());
    const uuid = await peer.dial('127.0.0.1', listener.port);
    const bodies: string[] = [];
    for (const [cmd, arg] of [['status', ''], ['uuid_exists', uuid], ['uuid_exists', 'nope'], ['show', 'channels as json'], ['nosuchcommand', 'x'], ['show', 'channels']]) {
      conn.api(cmd!, arg!, (e) => bodies.push(e.getBody()));
    }
    await run(() => bodies.length === 6);
    expect(bodies[0]).toMatch(/^UP 0 years, 0 days, 0 hours, 0 minutes, 0 seconds, 0 milliseconds, 0 microseconds\nFreeSWITCH \(Version 1\.11\.1/);
    expect(bodies.slice(1, 3)).toEqual(['true', 'false']);
    const json = JSON.parse(bodies[3]!) as { row_count: number; rows: { uuid: string; cid_name: string; state: string }[] };
    expect(json.row_count).toBe(1);
    expect(json.rows[0]).toMatchObject({ uuid, cid_name: 'Outbound Fixture', state: 'CS_EXECUTE' });
    expect(bodies[4]).toBe('-ERR nosuchcommand Command not found!\n');
    expect(bodies[5]!.split('\n')[0]!.startsWith('uuid,direction,created,created_epoch,name,state,')).toBe(true);
    expect(bodies[5]!.endsWith('\n\n1 total.\n')).toBe(true);

    let job: string | null = null;
    conn.bgapi('uuid_exists', uuid, (e) => (job = e.getBody()));
    await run(() => job !== null);
    expect(job).toBe('true');

    // uuid_kill hangs the call up; the session stays (uuid_exists) while its outbound socket is open, as in FreeSWITCH.
    const kills: string[] = [];
    conn.api('uuid_kill', `${uuid} USER_BUSY`, (e) => kills.push(e.getBody()));
    conn.api('uuid_kill', '00000000-0000-0000-0000-000000000000', (e) => kills.push(e.getBody()));
    await run(() => kills.length === 2);
    expect(kills).toEqual(['+OK\n', '-ERR No such channel!\n']);
    const c = await waitFor(() => listener.clients[0]);
    c.socket.destroy();
    let exists: string | null = null;
    await run(() => peer.liveChannels().length === 0);
    conn.api('uuid_exists', uuid, (e) => (exists = e.getBody()));
    await run(() => exists !== null);
    expect(exists).toBe('false');
  });

  it('lets an observer see a whole call, CHANNEL_DESTROY only after the outbound socket closed', async () => {
    const { peer, conn, run, isReady, sockets } = await inbound();
    await run(isReady);
    const seen: { name: string; uuid: string | null }[] = [];
    let subscribed = false;
    conn.events('plain', 'ALL', () => (subscribed = true));
    conn.on('esl::event::**', function (this: { event: string }, e: EslEvent) {
      const name = e.getHeader('Event-Name');
      if (name) seen.push({ name, uuid: e.getHeader('Unique-ID') });
    });
    await run(() => subscribed);
    const listener = await RawOutboundListener.open();
    cleanups.push(() => listener.close());
    const uuid = await peer.dial('127.0.0.1', listener.port);
    const c = await waitFor(() => listener.clients[0]);
    sockets.add(c.socket);
    c.send('connect\n\n');
    c.send('linger\n\n');
    c.send(sendmsg('answer'));
    c.send(sendmsg('hangup', 'USER_BUSY'));
    const mine = (): string[] => seen.filter((s) => s.uuid === uuid).map((s) => s.name);
    await run(() => c.frames.some((f) => f?.kind === 'linger-notice') && mine().includes('CHANNEL_HANGUP_COMPLETE'));
    expect(mine().slice(0, 6)).toEqual(['CHANNEL_STATE', 'CHANNEL_CREATE', 'CHANNEL_CALLSTATE', 'CHANNEL_STATE', 'CHANNEL_STATE', 'CHANNEL_EXECUTE']);
    expect(mine()).toContain('CHANNEL_HANGUP_COMPLETE');
    expect(mine()).not.toContain('CHANNEL_DESTROY');
    c.send('exit\n\n');
    await run(() => mine().includes('CHANNEL_DESTROY'));
    expect(mine().slice(-2)).toEqual(['CHANNEL_DESTROY', 'CHANNEL_STATE']);
    expect(c.replies().slice(-1)).toEqual(['+OK bye']);
    expect(c.frames[c.frames.length - 1]).toEqual({ kind: 'disconnect-notice', sessionUuid: uuid });
  });

  it('a wrong password: auth::fail, a disconnect notice, then the socket ends', async () => {
    const { conn, run } = await inbound('wrong');
    let failed = false;
    let ended = false;
    let notice = false;
    conn.on('esl::event::auth::fail', () => (failed = true));
    conn.on('esl::event::disconnect::notice', () => (notice = true));
    conn.on('esl::end', () => (ended = true));
    await run(() => failed && notice && ended);
  });
});

/** What a client is answered with, as a comparable line: replies and API results, uuids blanked. */
function answerLabel(f: ServerFrame | null): string | undefined {
  const blank = (t: string): string => t.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');
  if (!f) return 'undecodable';
  if (f.kind === 'auth-request' || f.kind === 'disconnect-notice' || f.kind === 'rude-rejection') return f.kind;
  if (f.kind === 'command-reply') return `reply ${blank(f.text)}`;
  // Errors word for word; a result's text (uptime, version, host name) is this switch's own.
  if (f.kind === 'api-response') return /^-(ERR|USAGE)/.test(f.body) ? `api ${blank(f.body.split('\n')[0]!)}` : 'api result';
  return undefined;
}

interface InboundReplay {
  readonly file: string;
  /** Recorded commands about channels only that switch had (the peer has no call here). */
  readonly skip?: (command: string) => boolean;
}

/** DTMF sent to the legs that switch's originate made (loopback, sofia): the peer has no such channels. */
const onRecordedChannels = (command: string): boolean => /^api uuid_(recv|send)_dtmf /.test(command);

const INBOUND_REPLAYS: readonly InboundReplay[] = [
  { file: 'inbound-auth.txt' },
  { file: 'inbound-auth-bad-password.txt' },
  { file: 'inbound-command-before-auth.txt' },
  { file: 'inbound-errors.txt' },
  { file: 'inbound-api.txt' },
  { file: 'inbound-bgapi.txt' },
  { file: 'inbound-event-heartbeat.txt' },
  { file: 'inbound-filter-sendevent-log.txt' },
  { file: 'inbound-myevents-uuid.txt' },
  { file: 'inbound-event-xml-call.txt' },
  { file: 'inbound-event-json-call-lifecycle.txt', skip: onRecordedChannels },
  { file: 'inbound-event-plain-call-lifecycle.txt', skip: onRecordedChannels },
  { file: 'inbound-sofia-call-plain.txt', skip: onRecordedChannels },
];

describe('inbound: the recorded sessions replayed against the peer', () => {
  it('covers every recorded inbound session but the ACL rejection (the peer has no ACL)', () => {
    const inbound = transcripts.filter((f) => f.startsWith('inbound-') && f !== 'inbound-acl-rude-rejection.txt');
    expect(INBOUND_REPLAYS.map((r) => r.file).sort()).toEqual(inbound.sort());
  });

  for (const rc of INBOUND_REPLAYS) {
    it(`${rc.file}: the recorded commands get the recorded replies, in order`, async () => {
      const records = readTranscript(join(FIXTURES, rc.file));
      // The recorded answers, less those to skipped commands (an answer follows its command).
      const recorded: string[] = [];
      let skipping = false;
      for (const r of records) {
        if (r.dir === 'C->S') skipping = rc.skip?.(r.bytes.toString()) ?? false;
        if (r.dir !== 'S->C' || skipping) continue;
        const d = decodeFrame(r.bytes);
        const label = answerLabel(d.ok ? d.frame : null);
        if (label !== undefined) recorded.push(label);
      }
      const { peer } = newPeer(scenario());
      const c = await RawEslClient.connect(await peer.listen());
      const answers = (): string[] => c.frames.map(answerLabel).filter((l): l is string => l !== undefined);
      await c.until(() => answers().length === 1);
      for (const r of records.filter((x) => x.dir === 'C->S')) {
        if (rc.skip?.(r.bytes.toString())) continue;
        const before = answers().length;
        c.send(r.bytes);
        await c.until(() => answers().length > before || c.ended);
      }
      await c.until(() => c.ended || answers().length >= recorded.length, 2000).catch(() => {});
      expect(answers()).toEqual(recorded);
      // Results that do not depend on the machine: byte for byte.
      const sent = records.filter((x) => x.dir === 'C->S' && !rc.skip?.(x.bytes.toString())).map((x) => x.bytes.toString().trim());
      const apiBodies = (frames: readonly (ServerFrame | null)[]): string[] => frames.flatMap((f) => (f?.kind === 'api-response' ? [f.body] : []));
      const theirs = apiBodies(records.filter((r) => r.dir === 'S->C').map((r) => { const d = decodeFrame(r.bytes); return d.ok ? d.frame : null; }));
      const ours = apiBodies(c.frames);
      sent.filter((x) => x.startsWith('api ')).forEach((cmd, i) => {
        if (/^api (eval|echo|sofia status|uuid_exists|global_getvar|show calls count)/.test(cmd)) expect(ours[i], cmd).toBe(theirs[i]);
      });
    });
  }
});

describe('inbound: the protocol at the byte level', () => {
  it('refuses commands before auth, then accepts auth; exit ends with the 67-byte notice', async () => {
    const { peer } = newPeer(scenario());
    const c = await RawEslClient.connect(await peer.listen());
    await c.until(() => c.frames.length === 1);
    expect(c.messages[0]!.toString()).toBe('Content-Type: auth/request\n\n');
    c.send('api status\n\nevent plain ALL\n\nauth ClueCon\n\n');
    await c.until(() => c.replies().length === 3);
    expect(c.replies()).toEqual(['-ERR command not found', '-ERR command not found', '+OK accepted']);
    c.send('foobar\n\napi\n\nevent plain NOSUCHEVENT\n\nevent bogusformat ALL\n\nlinger\n\nfilter\n\nfilter Event-Name\n\nfilter Event-Name CHANNEL_ANSWER\n\nnoevents\n\nnoevents\n\nsendmsg 00000000-0000-0000-0000-000000000000\ncall-command: execute\nexecute-app-name: answer\n\nexit\n\n');
    await c.until(() => c.ended);
    expect(c.replies()).toEqual([
      '-ERR command not found', '-ERR command not found', '+OK accepted', '-ERR command not found', '-ERR command not found',
      '-ERR no keywords supplied', '+OK event listener enabled plain', '-ERR not controlling a session', '-ERR command not found',
      '-ERR invalid syntax', '+OK filter added. [Event-Name]=[CHANNEL_ANSWER]', '+OK no longer listening for events',
      '-ERR not listening for events', '-ERR invalid session id [00000000-0000-0000-0000-000000000000]', '+OK bye',
    ]);
    expect(c.messages[c.messages.length - 1]!.toString()).toBe(
      'Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n',
    );
  });
});

// --- 4. call behaviour from the simulator ---------------------------------------------------------

describe('applications as FreeSWITCH runs them, behaviour from the simulator', () => {
  async function started(sc: Scenario, extra: Partial<EslPeerOptions> = {}) {
    const call = await outboundCall(sc, extra);
    await call.command('connect\n\n');
    await call.command('myevents\n\n');
    await call.command('event plain PLAYBACK_START PLAYBACK_STOP RECORD_START RECORD_STOP CHANNEL_CALLSTATE\n\n');
    await call.command('linger\n\n');
    return call;
  }
  const completes = (c: RawEslClient) => c.events().filter((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && get(e.headers, 'Application') !== 'socket');

  it('playback reads playback_terminators (set before it); a terminator digit ends it', async () => {
    const sc = scenario({ caller: { speaks_s: 0, dtmf: [{ digits: '#', on_prompt: 'vm-greeting', after_s: 0.5 }] }, prompts: { default_s: 5, durations_s: {} } });
    const { c, command, run, clock } = await started(sc);
    const t0 = clock.now();
    await command(sendmsg('answer'));
    await command(sendmsg('set', 'playback_terminators=#'));
    await command(sendmsg('playback', '/sounds/vm-greeting.wav', 'play-1'));
    await run(() => completes(c).length === 3);
    const done = completes(c)[2]!;
    expect(get(done.headers, 'Application-UUID')).toBe('play-1');
    expect(get(done.headers, 'Application-Response')).toBe('FILE PLAYED');
    expect(get(done.headers, 'variable_playback_terminator_used')).toBe('#');
    expect(clock.now() - t0).toBe(500);
    expect(c.events().map((e) => e.name)).toEqual(expect.arrayContaining(['PLAYBACK_START', 'DTMF', 'PLAYBACK_STOP']));
  });

  it('record <path> <limit> reports record_ms on RECORD_STOP and EXECUTE_COMPLETE', async () => {
    const { c, command, run } = await started(scenario({ caller: { speaks_s: 3, dtmf: [] } }));
    await command(sendmsg('answer'));
    await command(sendmsg('record', '/rec/msg.wav 2'));
    await run(() => completes(c).length === 2);
    const stop = c.events().find((e) => e.name === 'RECORD_STOP')!;
    expect(get(stop.headers, 'Record-File-Path')).toBe('/rec/msg.wav');
    expect(get(stop.headers, 'variable_record_ms')).toBe('2000');
    expect(get(completes(c)[1]!.headers, 'variable_record_ms')).toBe('2000');
  });

  it('the argument may come as a text/plain body (no execute-app-arg)', async () => {
    const { c, command, run } = await started(scenario());
    await command('sendmsg\ncall-command: execute\nexecute-app-name: playback\nContent-Type: text/plain\nContent-Length: 11\n\nvm-greeting');
    await run(() => completes(c).length === 1);
    expect(get(completes(c)[0]!.headers, 'Application-Data')).toBe('vm-greeting');
  });

  it('bridge to a device that answers: CALLSTATE RING_WAIT, CHANNEL_BRIDGE with the other leg, UNBRIDGE when it hangs up', async () => {
    const sc = scenario({ devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3 } } });
    const { c, command, run } = await started(sc);
    await command(sendmsg('bridge', '{ignore_early_media=true,originate_timeout=20}[leg_timeout=15]user/alice-desk@test.local'));
    await run(() => completes(c).length === 1);
    const names = c.events().map((e) => (e.name === 'CHANNEL_CALLSTATE' ? `CALLSTATE ${get(e.headers, 'Channel-Call-State')}` : e.name));
    expect(names.slice(names.indexOf('CHANNEL_EXECUTE'))).toEqual([
      'CHANNEL_EXECUTE', 'CALLSTATE RING_WAIT', 'CHANNEL_PROGRESS', 'CHANNEL_ANSWER', 'CALLSTATE ACTIVE', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_EXECUTE_COMPLETE',
    ]);
    const bridge = c.events().find((e) => e.name === 'CHANNEL_BRIDGE')!;
    expect(get(bridge.headers, 'Other-Leg-Channel-Name')).toBe('sofia/internal/alice-desk@test.local');
    expect(get(completes(c)[0]!.headers, 'variable_originate_disposition')).toBe('SUCCESS');
  });

  it('a busy leg hangs the caller up with USER_BUSY (CHANNEL_HANGUP before the bridge completes) unless continue_on_fail is set', async () => {
    const sc = scenario({ devices: { 'alice-desk': { action: 'busy' } } });
    const first = await started(sc);
    await first.command(sendmsg('answer'));
    await first.command(sendmsg('bridge', 'user/alice-desk@test.local'));
    await first.run(() => first.c.frames.some((f) => f?.kind === 'linger-notice'));
    const names = first.c.events().map((e) => e.name);
    const bridgeDone = first.c.events().findIndex((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && get(e.headers, 'Application') === 'bridge');
    expect(names.indexOf('CHANNEL_HANGUP')).toBe(bridgeDone - 1);
    expect(get(first.c.events()[bridgeDone]!.headers, 'Hangup-Cause')).toBe('USER_BUSY');

    const second = await started(sc);
    await second.command(sendmsg('set', 'continue_on_fail=true'));
    await second.command(sendmsg('bridge', 'user/alice-desk@test.local'));
    await second.run(() => completes(second.c).length === 2);
    const done = completes(second.c)[1]!;
    expect(get(done.headers, 'variable_originate_disposition')).toBe('USER_BUSY');
    expect(get(done.headers, 'variable_DIALSTATUS')).toBe('BUSY');
    expect(second.c.events().map((e) => e.name)).not.toContain('CHANNEL_HANGUP');
  });

  it('NO_ANSWER returns control without continue_on_fail; an unknown user fails SUBSCRIBER_ABSENT and hangs up', async () => {
    const noAnswer = await started(scenario({ devices: { 'alice-desk': { action: 'no_answer' } } }));
    await noAnswer.command(sendmsg('bridge', '{originate_timeout=3}user/alice-desk@test.local'));
    await noAnswer.run(() => completes(noAnswer.c).length === 1);
    expect(get(completes(noAnswer.c)[0]!.headers, 'variable_originate_disposition')).toBe('NO_ANSWER');
    expect(noAnswer.c.events().map((e) => e.name)).not.toContain('CHANNEL_HANGUP');

    // bob-desk is registered in its own realm (bob.example), so in the account's realm it is unknown.
    const unknown = await started(scenario({ devices: { 'bob-desk': { action: 'answer' } } }));
    await unknown.command(sendmsg('bridge', 'user/bob-desk@test.local'));
    await unknown.run(() => unknown.c.frames.some((f) => f?.kind === 'linger-notice'));
    const hangup = unknown.c.events().find((e) => e.name === 'CHANNEL_HANGUP')!;
    expect(get(hangup.headers, 'Hangup-Cause')).toBe('SUBSCRIBER_ABSENT');
  });

  it('an application FreeSWITCH does not know hangs up with DESTINATION_OUT_OF_ORDER and no CHANNEL_EXECUTE', async () => {
    const { c, command, run } = await started(scenario());
    await command(sendmsg('no_such_app', 'x'));
    await run(() => c.frames.some((f) => f?.kind === 'linger-notice'));
    expect(c.events().filter((e) => e.name === 'CHANNEL_EXECUTE' && get(e.headers, 'Application') === 'no_such_app')).toEqual([]);
    expect(get(c.events().find((e) => e.name === 'CHANNEL_HANGUP')!.headers, 'Hangup-Cause')).toBe('DESTINATION_OUT_OF_ORDER');
  });

  it('getvar answers with the bare value; call-command hangup ends a running playback at once', async () => {
    const { c, command, run } = await started(scenario({ prompts: { default_s: 30, durations_s: {} } }));
    await command(sendmsg('set', 'test_case=outbound_esl'));
    await run(() => completes(c).length === 1);
    expect((await command('getvar test_case\n\n'))).toEqual({ kind: 'command-reply', text: 'outbound_esl' });
    expect((await command('getvar unset_var\n\n'))).toEqual({ kind: 'command-reply', text: '-ERR command not found' });
    await command(sendmsg('playback', 'long-prompt'));
    await run(() => c.events().some((e) => e.name === 'PLAYBACK_START'));
    await command('sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n');
    await run(() => c.frames.some((f) => f?.kind === 'linger-notice'));
    const tail = c.events().map((e) => `${e.name}${get(e.headers, 'Application') ? `/${get(e.headers, 'Application')}` : ''}`);
    expect(tail.slice(tail.indexOf('CHANNEL_HANGUP'))).toEqual([
      'CHANNEL_HANGUP', 'PLAYBACK_STOP', 'CHANNEL_EXECUTE_COMPLETE/playback', 'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE/socket',
      'CHANNEL_STATE', 'CHANNEL_CALLSTATE', 'CHANNEL_STATE', 'CHANNEL_HANGUP_COMPLETE',
    ]);
  });

  it('without linger the notice and EOF follow the running application, CHANNEL_HANGUP_COMPLETE is lost (or, delivered, comes first)', async () => {
    for (const noLingerTail of ['lost', 'delivered'] as const) {
      const { c, command, run } = await outboundCall(scenario(), { noLingerTail });
      await command('connect\n\n');
      await command('myevents\n\n');
      c.send(sendmsg('hangup', 'NORMAL_CLEARING'));
      await run(() => c.ended);
      const labels = c.frames.map(label);
      const tail = labels.slice(labels.indexOf('CHANNEL_HANGUP'));
      if (noLingerTail === 'lost') expect(tail).toEqual(['CHANNEL_HANGUP', 'CHANNEL_EXECUTE_COMPLETE/hangup', 'disconnect-notice']);
      else expect(tail.slice(-2)).toEqual(['CHANNEL_HANGUP_COMPLETE', 'disconnect-notice']);
    }
  });

  it('linger N: the linger notice, then the disconnect notice N seconds of virtual time later', async () => {
    const { c, command, run, clock } = await outboundCall();
    await command('connect\n\n');
    expect(await command('linger 2\n\n')).toEqual({ kind: 'command-reply', text: '+OK will linger 2 seconds' });
    c.send(sendmsg('hangup'));
    await run(() => c.frames.some((f) => f?.kind === 'linger-notice'));
    const at = clock.now();
    expect(c.frames.find((f) => f?.kind === 'linger-notice')).toMatchObject({ lingerSeconds: 2, channelName: 'sofia/internal/5551234@test.local' });
    await run(() => c.ended);
    expect(clock.now() - at).toBe(2000);
    expect(c.frames[c.frames.length - 1]?.kind).toBe('disconnect-notice');
  });

  it('a static single-channel socket: +OK only once the application is done, then its events; api and linger refused', async () => {
    const { c, command, run } = await outboundCall(scenario(), {}, { socketMode: 'static', control: 'single-channel' });
    const dump = await command('connect\n\n');
    expect(dump).toMatchObject({ kind: 'connect-reply', socketMode: 'static', control: 'single-channel' });
    await command('myevents\n\n');
    expect(await command('api status\n\n')).toEqual({ kind: 'command-reply', text: '-ERR command not found' });
    expect(await command('linger\n\n')).toEqual({ kind: 'command-reply', text: '-ERR command not found' });
    c.send(sendmsg('playback', 'vm-greeting'));
    await run(() => c.events().some((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE'));
    const labels = c.frames.map(label);
    expect(labels.slice(-3)).toEqual(['reply +OK', 'CHANNEL_EXECUTE/playback', 'CHANNEL_EXECUTE_COMPLETE/playback']);
  });
});

// --- 5. faults -------------------------------------------------------------------------------------

describe('fault injection', () => {
  it('drop: an RST mid-playback; the playback plays out, then the socket application ends and the call is hung up', async () => {
    const { c, command, run, peer, listener } = await outboundCall(scenario({ prompts: { default_s: 10, durations_s: {} } }), {
      faults: { drop: { when: { event: 'PLAYBACK_START' }, how: 'reset' } },
    });
    const observer = await RawEslClient.connect(await peer.listen(), listener.sockets);
    observer.send('auth ClueCon\n\nevent plain ALL\n\n');
    await observer.until(() => observer.replies().length === 2);
    await command('connect\n\n');
    await command('myevents\n\n');
    c.send(sendmsg('playback', 'vm-greeting'));
    await run(() => peer.liveChannels().length === 0);
    // An RST: the client never reads an orderly end of stream.
    await c.until(() => c.ended);
    expect(c.sawEnd).toBe(false);
    await observer.until(() => observer.events().some((e) => e.name === 'CHANNEL_DESTROY'));
    const seen = observer.events().map((e) => `${e.name}${get(e.headers, 'Application') ? `/${get(e.headers, 'Application')}` : ''}`);
    const from = seen.indexOf('PLAYBACK_START');
    expect(seen.slice(from, from + 6)).toEqual([
      'PLAYBACK_START', 'PLAYBACK_STOP', 'CHANNEL_EXECUTE_COMPLETE/playback', 'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE/socket', 'CHANNEL_HANGUP',
    ]);
    expect(get(observer.events().find((e) => e.name === 'CHANNEL_HANGUP')!.headers, 'Hangup-Cause')).toBe('NORMAL_CLEARING');
  });

  it('drop after N commands with a FIN: the client reads an orderly end right after its first reply', async () => {
    const { c, command, run } = await outboundCall(scenario(), { faults: { drop: { when: { commandsReceived: 2 }, how: 'destroy' } } });
    await command('connect\n\n');
    c.send('myevents\n\n');
    await run(() => c.ended);
    expect(c.sawEnd).toBe(true);
    expect(c.frames.map(label)).toEqual(['connect-reply']);
  });

  it('delayReply: the sendmsg +OK arrives after two unrelated events', async () => {
    const { c, command, run } = await outboundCall(scenario(), { faults: { delayReply: { command: 'sendmsg', events: 2 } } });
    await command('connect\n\n');
    await command('myevents\n\n');
    c.send(sendmsg('answer'));
    await run(() => c.replies().length === 2);
    const labels = c.frames.map(label);
    const reply = labels.lastIndexOf('reply +OK');
    expect(labels.slice(reply - 3, reply + 1)).toEqual(['reply +OK Events Enabled', 'CHANNEL_PARK', 'CHANNEL_EXECUTE/answer', 'reply +OK']);
  });

  it('split: every message in small pieces, still the same messages', async () => {
    const { c, command, run } = await outboundCall(scenario(), { faults: { split: { seed: 3, maxBytes: 7 } } });
    await command('connect\n\n');
    await command('myevents\n\n');
    await command(sendmsg('answer'));
    await run(() => c.events().some((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE'));
    // The ~3 KB connect dump alone arrives in hundreds of pieces; every message still decodes.
    expect(c.chunks).toBeGreaterThan(200);
    expect(c.frames.map(label)).toEqual(['connect-reply', 'reply +OK Events Enabled', 'reply +OK', 'CHANNEL_PARK', 'CHANNEL_EXECUTE/answer', 'CHANNEL_ANSWER', 'CHANNEL_EXECUTE_COMPLETE/answer']);
  });

  it('coalesce: several messages in one write', async () => {
    const { c, command, run, peer } = await outboundCall(scenario(), { faults: { coalesce: true } });
    await command('connect\n\n');
    await command('myevents\n\n');
    await command(sendmsg('answer'));
    await run(() => c.events().some((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE'));
    // Four events went out during one step of virtual time: one socket write for them.
    expect(c.frames).toHaveLength(7);
    expect(peer.wireStats().writes).toBe(4);
  });

  it('rejectSendmsg: -ERR invalid session id, and the application never runs', async () => {
    const { c, command, run, uuid } = await outboundCall(scenario(), { faults: { rejectSendmsg: 1 } });
    await command('connect\n\n');
    await command('myevents\n\n');
    expect(await command(sendmsg('answer'))).toEqual({ kind: 'command-reply', text: `-ERR invalid session id [${uuid}]` });
    // The park comes with the first step of virtual time, when an accepted answer would have started too.
    await run(() => c.events().some((e) => e.name === 'CHANNEL_PARK'));
    expect(c.events().filter((e) => e.name === 'CHANNEL_EXECUTE')).toEqual([]);
    expect(await command(sendmsg('answer'))).toEqual({ kind: 'command-reply', text: '+OK' });
    await run(() => c.events().some((e) => e.name === 'CHANNEL_EXECUTE'));
  });

  it('inject: an event with a raw % in its envelope, and a frame whose body is not JSON', async () => {
    const { c, command, peer } = await outboundCall(scenario(), { faults: { inject: { afterFrames: 1, what: 'raw-percent-event' } } });
    await command('connect\n\n');
    await c.until(() => c.messages.length === 2);
    expect(c.messages[1]!.toString()).toContain('\nX-Fault: 100% raw\n');
    peer.inject('malformed-json-event');
    await c.until(() => c.messages.length === 3);
    expect(c.frames[2]).toBeNull();
  });

  it('refuseInbound: the first connections are reset, the next one is greeted', async () => {
    const { peer } = newPeer(scenario(), { faults: { refuseInbound: 2 } });
    const port = await peer.listen();
    const attempt = (): Promise<{ bytes: number; error: string | undefined }> =>
      new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        let bytes = 0;
        let error: string | undefined;
        s.on('data', (d: Buffer) => (bytes += d.length));
        s.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
        s.on('close', () => resolve({ bytes, error }));
      });
    expect(await attempt()).toEqual({ bytes: 0, error: 'ECONNRESET' });
    expect(await attempt()).toEqual({ bytes: 0, error: 'ECONNRESET' });
    const ok = await RawEslClient.connect(port);
    cleanups.push(() => {
      ok.socket.destroy();
    });
    await ok.until(() => ok.frames.length === 1);
    expect(ok.frames[0]).toEqual({ kind: 'auth-request' });
  });

  it('a caller id name with CR/LF, % and quotes is encoded on the wire; commandsReceived shows an injection by a naive client', async () => {
    const name = 'Evil\r\n\r\nexit\r\n\r\n 100% "q"';
    const { c, command, run, peer } = await outboundCall(scenario({ call: { from: '5551234', caller_id_name: name, to: '1000' } }));
    const dump = await command('connect\n\n');
    expect(c.messages[0]!.toString()).toContain('Caller-Caller-ID-Name: Evil%0D%0A%0D%0Aexit%0D%0A%0D%0A%20100%25%20%22q%22\n');
    expect(dump?.kind === 'connect-reply' && get(dump.headers, 'Caller-Caller-ID-Name')).toBe(name);

    // A safe client sends the value as a counted body: one command, the value intact.
    const body = `effective_caller_id_name=${name}`;
    await command(`sendmsg\ncall-command: execute\nexecute-app-name: set\nContent-Type: text/plain\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`);
    expect(peer.commandsReceived()).toHaveLength(2);
    expect(peer.commandsReceived()[1]!.endsWith(body)).toBe(true);

    // A naive one puts it in a header: the peer reads the rest as a second command (exit), as FreeSWITCH would.
    c.send(`sendmsg\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: effective_caller_id_name=${name}\n\n`);
    await run(() => c.ended);
    const received = peer.commandsReceived();
    expect(received.slice(2).map((r) => r.split(/\r?\n/)[0])).toEqual(['sendmsg', 'exit']);
    expect(c.replies().slice(-2)).toEqual(['+OK', '+OK bye']);
  });
});
