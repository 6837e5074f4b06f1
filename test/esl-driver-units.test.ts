import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Parser, { type EslEvent } from 'modesl/lib/esl/Parser.js';
import type { BridgeEndpoint, SwitchCommand } from '../engine/switch.ts';
import { legTemplateProblem, renderDialString } from '../integrations/freeswitch/dial-string.ts';
import { EslCommandTimeoutError, EslDisconnectedError, EslFramingError, UnsafeValueError } from '../integrations/freeswitch/errors.ts';
import { guardParser, safeDecode } from '../integrations/freeswitch/framing-guard.ts';
import { commandFrame, renderCommand, sendmsgFrame, type RenderState, type Sendmsg } from '../integrations/freeswitch/render.ts';
import { ReplyQueue, type Timers } from '../integrations/freeswitch/reply-queue.ts';
import { soundFile } from '../integrations/freeswitch/sounds.ts';
import { wireEvent } from '../integrations/freeswitch/wire-event.ts';

const fixtures = join(process.cwd(), '..', 'shared', 'fixtures', 'freeswitch');

/** A modesl Parser on a fake socket, guarded; what it emits and what killed it. */
function guarded() {
  const socket = new EventEmitter();
  const parser = new Parser(socket);
  const seen: { event: EslEvent; envelope: Record<string, unknown> }[] = [];
  const fatal: Error[] = [];
  parser.on('error', () => {});
  guardParser(parser, (e) => fatal.push(e));
  parser.on('esl::event', (event: EslEvent, envelope: Record<string, unknown>) => seen.push({ event, envelope }));
  return { feed: (s: string | Buffer) => socket.emit('data', Buffer.from(s)), seen, fatal };
}

const alice: BridgeEndpoint = { deviceId: 'dev-a', ownerId: 'u-a', username: 'alice-desk', realm: 'example.sip.local', delaySeconds: 0, timeoutSeconds: 20 };
const alice2: BridgeEndpoint = { ...alice, deviceId: 'dev-b', username: 'alice-soft', delaySeconds: 5, timeoutSeconds: 0 };
const bridge = (over: Partial<Extract<SwitchCommand, { app: 'bridge' }>> = {}): Extract<SwitchCommand, { app: 'bridge' }> => ({
  app: 'bridge',
  endpoints: [alice, alice2],
  strategy: 'simultaneous',
  timeoutSeconds: 20,
  ignoreEarlyMedia: true,
  continueOnFail: true,
  ...over,
});

describe('safeDecode', () => {
  it('decodes what FreeSWITCH encodes and never throws on what it does not', () => {
    expect(safeDecode('%2BOK%0A')).toBe('+OK\n');
    expect(safeDecode('Fri,%2027%20Nov')).toBe('Fri, 27 Nov');
    expect(safeDecode('caf%C3%A9%20%E2%82%AC')).toBe('café €');
    expect(safeDecode('-ERR 100% broken')).toBe('-ERR 100% broken');
    expect(safeDecode('%zz%4')).toBe('%zz%4');
    expect(safeDecode('a+b')).toBe('a+b');
    expect(safeDecode('%FF')).toBe('\uFFFD');
    expect(() => decodeURIComponent('-ERR 100% broken')).toThrow(URIError);
  });
});

describe('guardParser (modesl Parser on untrusted bytes)', () => {
  it('a raw % in an envelope header is read, not thrown from the data handler', () => {
    const p = guarded();
    expect(() => p.feed('Content-Type: command/reply\nReply-Text: -ERR 100% broken\n\n')).not.toThrow();
    expect(p.fatal).toEqual([]);
    expect(p.seen.map((s) => s.envelope['Reply-Text'])).toEqual(['-ERR 100% broken']);
  });

  it('unguarded, the same frame throws URIError out of the socket handler (what the guard prevents)', () => {
    const socket = new EventEmitter();
    new Parser(socket);
    expect(() => socket.emit('data', Buffer.from('Content-Type: command/reply\nReply-Text: -ERR 100% broken\n\n'))).toThrow(URIError);
  });

  it.each([
    ['a negative Content-Length', 'Content-Type: api/response\nContent-Length: -5\n\nabc'],
    ['a non-numeric Content-Length', 'Content-Type: api/response\nContent-Length: 12abc\n\n'],
    ['a Content-Length past 16 MiB', `Content-Type: api/response\nContent-Length: ${16 * 1024 * 1024 + 1}\n\n`],
  ])('%s is a framing error reported once, and parsing stops', (_what, frame) => {
    const p = guarded();
    expect(() => p.feed(frame)).not.toThrow();
    expect(p.fatal).toHaveLength(1);
    expect(p.fatal[0]).toBeInstanceOf(EslFramingError);
    p.feed('Content-Type: command/reply\nReply-Text: +OK\n\n');
    expect(p.seen).toHaveLength(0);
  });

  it('a header block that never ends is cut off at 1 MiB', () => {
    const p = guarded();
    const line = `X-Filler: ${'x'.repeat(1000)}\n`;
    for (let i = 0; i < 1100; i++) p.feed(line);
    expect(p.fatal[0]).toBeInstanceOf(EslFramingError);
  });

  it('a listener that throws ends the parse, not the process', () => {
    const p = guarded();
    const socket = new EventEmitter();
    const parser = new Parser(socket);
    const fatal: Error[] = [];
    guardParser(parser, (e) => fatal.push(e));
    parser.on('esl::event', () => {
      throw new Error('listener bug');
    });
    expect(() => socket.emit('data', Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n'))).not.toThrow();
    expect(fatal.map((e) => e.message)).toEqual(['listener bug']);
    expect(p.fatal).toEqual([]);
  });

  it('reads 20 000 replies in one chunk without recursing (modesl recurses once per message)', () => {
    const p = guarded();
    p.feed('Content-Type: command/reply\nReply-Text: +OK\n\n'.repeat(20_000));
    expect(p.fatal).toEqual([]);
    expect(p.seen).toHaveLength(20_000);
  });

  it('reads every recorded FreeSWITCH stream exactly as unguarded modesl does, whole and in chunks', () => {
    for (const name of ['outbound-call-lifecycle', 'outbound-record-bridge', 'outbound-remote-hangup-linger-json', 'inbound-event-plain-call-lifecycle', 'inbound-bgapi']) {
      const stream = readFileSync(join(fixtures, `${name}.rx.raw`));
      const plainSocket = new EventEmitter();
      const plain = new Parser(plainSocket);
      const expected: string[] = [];
      plain.on('esl::event', (e: EslEvent) => expected.push(JSON.stringify([e.headers, e.getBody()])));
      plainSocket.emit('data', stream);
      const p = guarded();
      for (let i = 0; i < stream.length; i += 977) p.feed(stream.subarray(i, i + 977));
      expect(p.fatal, name).toEqual([]);
      expect(p.seen.map((s) => JSON.stringify([s.event.headers, s.event.getBody()])), name).toEqual(expected);
    }
  });
});

describe('wireEvent', () => {
  it('json values stay raw (never URL-decoded), plain ones arrive decoded, xml ones are decoded here', () => {
    const p = guarded();
    const json = JSON.stringify({ 'Event-Name': 'DTMF', 'Unique-ID': 'u1', 'Caller-Caller-ID-Name': '100%25 %zz' });
    p.feed(`Content-Length: ${Buffer.byteLength(json)}\nContent-Type: text/event-json\n\n${json}`);
    const plain = 'Event-Name: DTMF\nUnique-ID: u1\nCaller-Caller-ID-Name: 100%25%20%zz\n\n';
    p.feed(`Content-Length: ${plain.length}\nContent-Type: text/event-plain\n\n${plain}`);
    const xml = '<event><headers><Event-Name>DTMF</Event-Name><Unique-ID>u1</Unique-ID><Caller-Caller-ID-Name>100%25%20x</Caller-Caller-ID-Name></headers></event>';
    p.feed(`Content-Length: ${xml.length}\nContent-Type: text/event-xml\n\n${xml}`);
    const names = p.seen.map((s) => wireEvent(s.event, s.envelope['Content-Type'] as string)!.headers['Caller-Caller-ID-Name']);
    expect(names).toEqual(['100%25 %zz', '100% %zz', '100% x']);
  });

  it('keeps the last of duplicate headers and drops non-string JSON values', () => {
    const p = guarded();
    const json = '{"Event-Name":"CHANNEL_HANGUP_COMPLETE","Hangup-Cause":"A","Hangup-Cause":"NORMAL_CLEARING","Odd":{"x":1}}';
    p.feed(`Content-Length: ${json.length}\nContent-Type: text/event-json\n\n${json}`);
    const e = wireEvent(p.seen[0]!.event, 'text/event-json')!;
    expect(e.headers['Hangup-Cause']).toBe('NORMAL_CLEARING');
    expect(e.headers['Odd']).toBeUndefined();
  });
});

describe('dial strings', () => {
  it('simultaneous: globals in {}, per-leg [] only for what is set, legs joined by ","', () => {
    expect(renderDialString(bridge())).toBe(
      '{ignore_early_media=true,originate_timeout=20}[leg_timeout=20]user/alice-desk@example.sip.local,[leg_delay_start=5]user/alice-soft@example.sip.local',
    );
  });

  it('single: legs joined by "|"; timeout 0 leaves the switch default; a configured leg template', () => {
    expect(renderDialString(bridge({ strategy: 'single', timeoutSeconds: 0, ignoreEarlyMedia: false }), { legTemplate: 'sofia/internal/{username}%{realm}' })).toBe(
      '{ignore_early_media=false}[leg_timeout=20]sofia/internal/alice-desk%example.sip.local|[leg_delay_start=5]sofia/internal/alice-soft%example.sip.local',
    );
  });

  it.each([
    ['username', 'bob,user/evil@x'],
    ['username', 'bob|sofia/gw/900'],
    ['username', 'a]b'],
    ['username', '{x=1}b'],
    ['username', 'a b'],
    ['username', 'a@b'],
    ['realm', 'x:_:user/evil'],
    ['realm', 'x\r\napi status'],
    ['realm', 'x${system(id)}'],
    ['realm', 'r^^:'],
  ])('refuses a %s of %j with a typed error', (field, value) => {
    expect(() => renderDialString(bridge({ endpoints: [{ ...alice, [field]: value }] }))).toThrow(UnsafeValueError);
  });

  // FreeSWITCH splits dial strings with switch_separate_string: `\` escapes the next character and
  // `'...'` quotes, so a separator after or between them would not split, merging two legs into one.
  it.each([
    ['deviceId', 'dev\\', 'sofia/internal/{deviceId}%{realm}'],
    ['deviceId', "o'dev", 'sofia/internal/{deviceId}%{realm}'],
    ['deviceId', 'o"dev', 'sofia/internal/{deviceId}%{realm}'],
    ['ownerId', "o'dev", 'sofia/internal/{deviceId}-{ownerId}%{realm}'],
    ['username', 'alice\\', 'user/{username}@{realm}'],
  ])('refuses FreeSWITCH quoting in a %s of %j (template %s)', (field, value, legTemplate) => {
    expect(() => renderDialString(bridge({ endpoints: [{ ...alice, [field]: value }, alice2] }), { legTemplate })).toThrow(UnsafeValueError);
  });

  it('a leg template with quotes or a backslash outside its placeholders is a problem at startup and refused at render', () => {
    for (const t of ["sofia/internal/'{username}%{realm}'", 'sofia/internal/{username}\\%{realm}', 'sofia/internal/"{username}"']) {
      expect(legTemplateProblem(t)).toMatch(/may not contain ' " or \\/);
      expect(() => renderDialString(bridge(), { legTemplate: t })).toThrow(UnsafeValueError);
    }
    expect(legTemplateProblem('sofia/internal/{username}%{realm}')).toBeUndefined();
  });

  it('fail_on_single_reject and custom SIP headers (sip_h_<Name>) go in the global {} part, in that order', () => {
    expect(renderDialString(bridge({ failOnSingleReject: true, customSipHeaders: { 'X-Account-ID': 'acc-1', 'X-Info': 'a b <sip:x@y>;tag=1' } }))).toBe(
      '{ignore_early_media=true,originate_timeout=20,fail_on_single_reject=true,sip_h_X-Account-ID=acc-1,sip_h_X-Info=a b <sip:x@y>;tag=1}' +
        '[leg_timeout=20]user/alice-desk@example.sip.local,[leg_delay_start=5]user/alice-soft@example.sip.local',
    );
    expect(renderDialString(bridge({ customSipHeaders: {} }))).toBe(renderDialString(bridge()));
  });

  it.each([
    ['X-A', 'a,sip_h_X-B=b'],
    ['X-A', 'a}user/evil@x'],
    ['X-A', 'a]b'],
    ['X-A', 'a[b'],
    ['X-A', 'a{b'],
    ['X-A', 'a|sofia/gw/900'],
    ['X-A', "it's"],
    ['X-A', 'say "hi"'],
    ['X-A', 'a\\'],
    ['X-A', 'x${system(id)}'],
    ['X-A', 'x:_:user/evil'],
    ['X-A', 'x\r\napi status'],
    ['X-A', ' padded'],
    ['X-A', ''],
    ['X A', 'v'],
    ['X-A=1,X-B', 'v'],
    ['X_A', 'v'],
    ['', 'v'],
  ])('refuses a custom SIP header %j: %j with a typed error', (name, value) => {
    expect(() => renderDialString(bridge({ customSipHeaders: { [name]: value } }))).toThrow(UnsafeValueError);
  });

  it('refuses non-numbers where numbers go, and an empty endpoint list', () => {
    expect(() => renderDialString(bridge({ timeoutSeconds: Number.NaN }))).toThrow(UnsafeValueError);
    expect(() => renderDialString(bridge({ endpoints: [{ ...alice, delaySeconds: -1 }] }))).toThrow(UnsafeValueError);
    expect(() => renderDialString(bridge({ endpoints: [] }))).toThrow(UnsafeValueError);
  });
});

describe('prompt names to sound files', () => {
  it('maps names through the template and folders, passes files and URLs through', () => {
    expect(soundFile('vm-record_message')).toBe('voicemail/vm-record_message.wav');
    expect(soundFile('digits/5')).toBe('digits/5.wav');
    expect(soundFile('beep.wav')).toBe('beep.wav');
    expect(soundFile('/var/lib/greeting.wav')).toBe('/var/lib/greeting.wav');
    expect(soundFile('tone_stream://%(500,0,440);loops=1')).toBe('tone_stream://%(500,0,440);loops=1');
    expect(soundFile('vm-goodbye', { template: 'en/us/callie/{name}.wav', folders: { 'vm-': 'vm/', 'vm-good': 'special/' } })).toBe('special/en/us/callie/vm-goodbye.wav');
    expect(() => soundFile('../../etc/passwd')).toThrow(UnsafeValueError);
    expect(() => soundFile('/var/greetings/../../etc/shadow')).toThrow(UnsafeValueError);
    // Schemes that fetch or run what they name are never played, whoever asks.
    expect(() => soundFile('shell_stream:///bin/touch /tmp/pwned')).toThrow(/only tone_stream:\/\/ and silence_stream:\/\/ URLs/);
    expect(() => soundFile('http_cache://http://169.254.169.254/latest')).toThrow(UnsafeValueError);
    expect(soundFile('silence_stream://1000')).toBe('silence_stream://1000');
    expect(() => soundFile('x\nsendmsg')).toThrow(UnsafeValueError);
  });
});

describe('rendering SwitchCommands', () => {
  let n = 0;
  const internalId = () => `internal-${++n}`;
  const render = (c: SwitchCommand, state: RenderState = { bridgeVariablesSet: false }) => renderCommand(c, 'app-1', state, internalId);
  const apps = (ms: Sendmsg[]) => ms.map((m) => (m.callCommand === 'execute' ? `${m.internal ? '(internal) ' : ''}${m.app} ${m.arg ?? ''}`.trim() : `hangup ${m.cause}`));

  it('playback and record set playback_terminators first, as the driver\'s own application', () => {
    expect(apps(render({ app: 'playback', file: 'vm-greeting', terminators: '#' }))).toEqual(['(internal) set playback_terminators=#', 'playback voicemail/vm-greeting.wav']);
    expect(apps(render({ app: 'playback', file: 'tone_stream://%(500,0,440)' }))).toEqual(['(internal) set playback_terminators=none', 'playback tone_stream://%(500,0,440)']);
    expect(apps(render({ app: 'record', path: '/rec/a.wav', limitSeconds: 120, terminators: '0123456789*#', silenceThreshold: 200, silenceHits: 5 }))).toEqual([
      '(internal) set playback_terminators=0123456789*#',
      'record /rec/a.wav 120 200 5',
    ]);
    const [set, play] = render({ app: 'playback', file: 'x', terminators: '1' });
    // The driver's own set gets its own id, so its completion is never taken for the playback's.
    expect(set!.callCommand === 'execute' && set!.eventUuid).toMatch(/^internal-\d+$/);
    expect(play!.callCommand === 'execute' && play!.eventUuid).toBe('app-1');
  });

  it("say is KAZOO's say_command: one application, language, name_spelled, pronounced, then the text", () => {
    expect(apps(render({ app: 'say', text: '2000', terminators: '0123456789*#' }))).toEqual([
      '(internal) set playback_terminators=0123456789*#',
      'say en name_spelled pronounced 2000',
    ]);
  });

  it('bridge sets continue_on_fail and hangup_after_bridge on the channel once', () => {
    const state = { bridgeVariablesSet: false };
    expect(apps(render(bridge(), state)).slice(0, 2)).toEqual(['(internal) set continue_on_fail=true', '(internal) set hangup_after_bridge=false']);
    expect(apps(render(bridge(), state))).toHaveLength(1);
  });

  it('answer, set, sleep, hangup', () => {
    expect(apps(render({ app: 'answer' }))).toEqual(['answer']);
    expect(apps(render({ app: 'set', name: 'call_note', value: 'a=b c' }))).toEqual(['set call_note=a=b c']);
    expect(apps(render({ app: 'sleep', ms: 1500 }))).toEqual(['sleep 1500']);
    expect(apps(render({ app: 'hangup', cause: 'USER_BUSY' }))).toEqual(['hangup USER_BUSY']);
  });

  it.each<[string, SwitchCommand]>([
    ['a CR/LF in a set value', { app: 'set', name: 'x', value: 'ok\n\nsendmsg\ncall-command: hangup' }],
    ['a NUL in a set value', { app: 'set', name: 'x', value: 'a\0b' }],
    ['variable expansion in a set value', { app: 'set', name: 'x', value: '${system(rm -rf /)}' }],
    ['a "=" in a set name', { app: 'set', name: 'a=b', value: '1' }],
    ['whitespace in a record path', { app: 'record', path: '/rec/a.wav 1 2 3', limitSeconds: 1 }],
    ['whitespace in text to say', { app: 'say', text: '2000 en name_spelled' }],
    ['a line break in text to say', { app: 'say', text: '1\nsendmsg' }],
    ['a non-digit terminator', { app: 'playback', file: 'x', terminators: '1\n' }],
    ['an unknown hangup cause', { app: 'hangup', cause: 'NORMAL_CLEARING\nx' as 'NORMAL_CLEARING' }],
    ['a fractional-free number that is not finite', { app: 'sleep', ms: Number.POSITIVE_INFINITY }],
  ])('refuses %s with a typed error (nothing is sent)', (_what, c) => {
    expect(() => render(c)).toThrow(UnsafeValueError);
  });

  it.each<[string, SwitchCommand]>([
    ['an ESC in a set value', { app: 'set', name: 'x', value: 'a\x1b[2Jb' }],
    ['a TAB in a set value', { app: 'set', name: 'x', value: 'a\tb' }],
    ['a DEL in a set value', { app: 'set', name: 'x', value: 'a\x7fb' }],
    ['an ESC in a playback file', { app: 'playback', file: '/sounds/a\x1b.wav' }],
    ['a TAB in a playback file', { app: 'playback', file: '/sounds/a\tb.wav' }],
  ])('refuses %s: control characters other than CR/LF are refused too', (_what, c) => {
    expect(() => render(c)).toThrow(UnsafeValueError);
    expect(() => render(c)).toThrow(/contains a control character/);
  });

  it('refuses an Application-UUID that is not an id', () => {
    expect(() => renderCommand({ app: 'answer' }, 'x\nEvent-UUID: y', { bridgeVariablesSet: false }, internalId)).toThrow(UnsafeValueError);
  });
});

describe('sendmsg frames', () => {
  it('carry the argument as a text/plain body with its byte length, never as a header', () => {
    const frame = sendmsgFrame({ callCommand: 'execute', app: 'playback', arg: 'sons/café.wav', eventUuid: 'e-1', internal: false }, null);
    expect(frame).toBe(
      'sendmsg\ncall-command: execute\nexecute-app-name: playback\nEvent-UUID: e-1\nContent-Type: text/plain\nContent-Length: 14\n\nsons/café.wav',
    );
    expect(frame).not.toContain('execute-app-arg');
    expect(sendmsgFrame({ callCommand: 'execute', app: 'answer', arg: null, eventUuid: 'e-2', internal: false }, 'chan-1')).toBe(
      'sendmsg chan-1\ncall-command: execute\nexecute-app-name: answer\nEvent-UUID: e-2\n\n',
    );
    expect(sendmsgFrame({ callCommand: 'hangup', cause: 'NORMAL_CLEARING', internal: false }, null)).toBe('sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n');
  });

  it('refuse a body or command that could end the frame early', () => {
    expect(() => sendmsgFrame({ callCommand: 'execute', app: 'playback', arg: 'a\n\nexit', eventUuid: 'e', internal: false }, null)).toThrow(UnsafeValueError);
    expect(() => commandFrame('api status\n\nexit')).toThrow(UnsafeValueError);
    expect(() => commandFrame('bgapi status', { 'Job-UUID': 'x\ny' })).toThrow(UnsafeValueError);
  });

  it('refuse ESC, TAB and other control characters in a body, a command or a header value', () => {
    const body = (arg: string) => sendmsgFrame({ callCommand: 'execute', app: 'playback', arg, eventUuid: 'e', internal: false }, null);
    expect(() => body('a\x1b]0;x\x07.wav')).toThrow(/^playback argument: contains a control character$/);
    expect(() => body('a\tb.wav')).toThrow(/^playback argument: contains a control character$/);
    expect(() => commandFrame('api status\x1b')).toThrow(/^command: contains a control character$/);
    expect(() => commandFrame('bgapi status', { 'Job-UUID': 'x\ty' })).toThrow(/^Job-UUID: contains a control character$/);
    // Printable text, spaces and non-ASCII letters pass.
    expect(body('sons/café 1.wav')).toContain('\n\nsons/café 1.wav');
  });
});

describe('ReplyQueue', () => {
  /** Timers run by hand. */
  function manualTimers() {
    const pending = new Map<number, () => void>();
    let id = 0;
    const timers: Timers = {
      setTimeout: (fn) => (pending.set(++id, fn), id),
      clearTimeout: (t) => void pending.delete(t as number),
    };
    return { timers, fireAll: () => [...pending.entries()].forEach(([k, f]) => (pending.delete(k), f())) };
  }
  const reply = (text: string, type: 'command/reply' | 'api/response' = 'command/reply') => ({ type, text, headers: {} });

  it('matches replies in send order', async () => {
    const q = new ReplyQueue(manualTimers().timers, 1000);
    const a = q.expect('a', 'command/reply');
    const b = q.expect('b', 'api/response');
    expect(q.take(reply('+OK a'))).toBeNull();
    expect(q.take(reply('body b', 'api/response'))).toBeNull();
    expect(await a).toMatchObject({ ok: true, reply: { text: '+OK a' } });
    expect(await b).toMatchObject({ ok: true, reply: { text: 'body b' } });
  });

  it('a timed-out command fails at once but keeps its place, so the next reply still lines up', async () => {
    const t = manualTimers();
    const q = new ReplyQueue(t.timers, 1000);
    const a = q.expect('a', 'command/reply');
    t.fireAll();
    const b = q.expect('b', 'command/reply');
    const ra = await a;
    expect(ra.ok === false && ra.error).toBeInstanceOf(EslCommandTimeoutError);
    q.take(reply('+OK late a'));
    q.take(reply('+OK b'));
    expect(await b).toMatchObject({ ok: true, reply: { text: '+OK b' } });
  });

  it('a reply of the wrong type, or with nothing waiting, is a protocol error; failAll fails what waits', async () => {
    const q = new ReplyQueue(manualTimers().timers, 1000);
    expect(q.take(reply('+OK'))?.kind).toBe('esl_protocol');
    const a = q.expect('a', 'api/response');
    expect(q.take(reply('+OK'))?.kind).toBe('esl_protocol');
    expect((await a).ok).toBe(false);
    const b = q.expect('b', 'command/reply');
    q.failAll('socket closed');
    const rb = await b;
    expect(rb.ok === false && rb.error).toBeInstanceOf(EslDisconnectedError);
    expect(q.pending).toBe(0);
  });
});

describe('headers kept from a FreeSWITCH event', () => {
  it('what the engine reads and a trace reader needs; the rest of the channel variables are dropped', async () => {
    const { SESSION_EVENT_HEADERS } = await import('../integrations/freeswitch/channel-events.ts');
    const { wireEvent } = await import('../integrations/freeswitch/wire-event.ts');
    const wire: [string, string][] = [
      ['Event-Name', 'CHANNEL_EXECUTE_COMPLETE'],
      ['Core-UUID', 'c'],
      ['FreeSWITCH-Hostname', 'vm'],
      ['Unique-ID', 'u1'],
      ['Application', 'bridge'],
      ['Application-UUID', 'a1'],
      ['Application-Response', '_none_'],
      ['variable_originate_disposition', 'NO_ANSWER'],
      ['variable_record_ms', '5000'],
      ['variable_sip_user_agent', 'Zoiper'],
      ...Array.from({ length: 150 }, (_, i): [string, string] => [`variable_x${i}`, 'y'.repeat(20)]),
    ];
    const event = { headers: wire.map(([name, value]) => ({ name, value })), body: '' };
    const e = wireEvent(event as never, 'text/event-json', SESSION_EVENT_HEADERS)!;
    expect(e.name).toBe('CHANNEL_EXECUTE_COMPLETE');
    expect(Object.keys(e.headers).sort()).toEqual(
      ['Application', 'Application-Response', 'Application-UUID', 'Event-Name', 'Unique-ID', 'variable_originate_disposition', 'variable_record_ms'].sort(),
    );
  });
});
