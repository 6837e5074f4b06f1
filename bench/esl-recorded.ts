import { readTranscript, type TranscriptRecord } from '../integrations/freeswitch/transcript.ts';
import { encodeFrame } from '../test/support/esl-peer/wire-format.ts';

/**
 * Frames cut, byte for byte, from the sessions recorded on a real FreeSWITCH 1.11
 * (../../shared/fixtures/freeswitch/), with the uuids swapped for the benchmark's own. Every
 * swapped value is a 36-character uuid replacing another, so each Content-Length stays right.
 */

const FIXTURES = new URL('../../shared/fixtures/freeswitch/', import.meta.url).pathname;

/**
 * The channel whose JSON events are used: the b-leg of inbound-event-json-call-lifecycle.txt,
 * which ran set, answer, sleep, playback (with two DTMF), sleep and hangup.
 */
const EVENT_CHANNEL = '0609b55c-6432-4471-8739-cc314a2d3ada';
/** The channel of the recorded outbound `connect` reply (outbound-call-lifecycle.txt, record #2). */
const CONNECT_CHANNEL = '1a9ffbe7-838c-47a4-9af4-49d811516f1e';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A recorded frame with some uuids as holes: `render` fills them, in the order they were named. */
export class FrameTemplate {
  private readonly parts: string[];
  private readonly holes: number[];

  constructor(
    readonly text: string,
    slots: readonly string[],
  ) {
    // uuids hold only hex digits and '-': nothing to escape in the pattern.
    const split = text.split(new RegExp(`(${slots.join('|')})`));
    this.parts = [];
    this.holes = [];
    for (let i = 0; i < split.length; i++) {
      if (i % 2 === 0) this.parts.push(split[i]!);
      else this.holes.push(slots.indexOf(split[i]!));
    }
  }

  render(values: readonly string[]): string {
    let out = this.parts[0]!;
    for (let i = 0; i < this.holes.length; i++) {
      const v = values[this.holes[i]!]!;
      if (!UUID.test(v)) throw new Error(`not a uuid: ${v}`);
      out += v + this.parts[i + 1]!;
    }
    return out;
  }
}

/** One `text/event-json` frame of the recorded channel. */
export interface RecordedEvent {
  /** The record number in the transcript. */
  readonly n: number;
  readonly name: string;
  readonly channelState: string;
  /** Application-UUID, for CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE. */
  readonly appUuid: string | null;
  /** Holes: 0 the channel uuid, 1 the Application-UUID (when there is one). */
  readonly template: FrameTemplate;
}

const contentType = (bytes: Buffer): string | undefined => /(?:^|\n)Content-Type: ([^\n]+)/.exec(bytes.toString('utf8', 0, Math.min(bytes.length, 200)))?.[1];

let cachedEvents: RecordedEvent[] | undefined;

/** Every JSON event of the recorded channel, in wire order. */
export function recordedChannelEvents(): RecordedEvent[] {
  if (cachedEvents) return cachedEvents;
  const out: RecordedEvent[] = [];
  for (const r of readTranscript(`${FIXTURES}inbound-event-json-call-lifecycle.txt`)) {
    if (r.dir !== 'S->C' || contentType(r.bytes) !== 'text/event-json') continue;
    const text = r.bytes.toString('utf8');
    const body = JSON.parse(text.slice(text.indexOf('\n\n') + 2)) as Record<string, string>;
    if (body['Unique-ID'] !== EVENT_CHANNEL) continue;
    const appUuid = body['Application-UUID'] ?? null;
    out.push({
      n: r.n!,
      name: body['Event-Name']!,
      channelState: body['Channel-State'] ?? '',
      appUuid,
      template: new FrameTemplate(text, appUuid ? [EVENT_CHANNEL, appUuid] : [EVENT_CHANNEL]),
    });
  }
  if (out.length === 0) throw new Error('no JSON events of the recorded channel: fixtures missing?');
  return (cachedEvents = out);
}

/** The recorded event with this record number. */
export function recordedEvent(n: number): RecordedEvent {
  const e = recordedChannelEvents().find((x) => x.n === n);
  if (!e) throw new Error(`no recorded event #${n}`);
  return e;
}

let connectTemplate: FrameTemplate | undefined;

/** The recorded `connect` reply (CHANNEL_DATA, `Socket-Mode: async`, `Control: full`) for channel `uuid`. */
export function connectReply(uuid: string): Buffer {
  if (!connectTemplate) {
    const rec = readTranscript(`${FIXTURES}outbound-call-lifecycle.txt`).find((r: TranscriptRecord) => r.dir === 'S->C' && r.n === 2);
    if (!rec || !rec.bytes.toString().startsWith('Event-Name: CHANNEL_DATA')) throw new Error('outbound-call-lifecycle.txt: no connect reply at record #2');
    connectTemplate = new FrameTemplate(rec.bytes.toString('utf8'), [CONNECT_CHANNEL]);
  }
  return Buffer.from(connectTemplate.render([uuid]));
}

/** The command/reply FreeSWITCH 1.11 gives each command the driver (or modesl) sends; null for `connect`/`exit`. */
export function replyText(line: string): string | null {
  if (line === 'connect' || line === 'exit') return null;
  if (line.startsWith('myevents')) return '+OK Events Enabled';
  if (line.startsWith('event ')) return `+OK event listener enabled ${line.split(' ')[1]}`;
  const linger = /^linger (\d+)$/.exec(line);
  if (linger) return `+OK will linger ${linger[1]} seconds`;
  if (line === 'linger') return '+OK will linger';
  return '+OK';
}

export const reply = (text: string): Buffer => encodeFrame({ kind: 'command-reply', text });

/** What FreeSWITCH writes after `exit` on an outbound socket: `+OK bye`, then the disconnect notice. */
export const exitReply = (uuid: string): Buffer => Buffer.concat([reply('+OK bye'), encodeFrame({ kind: 'disconnect-notice', sessionUuid: uuid })]);

/** The destination number in the recorded connect reply (what the driver routes on). */
export function recordedDestination(): string {
  const m = /\nCaller-Destination-Number: ([^\n]+)\n/.exec(connectReply('00000000-0000-4000-8000-000000000000').toString('utf8'));
  if (!m) throw new Error('the recorded connect reply has no Caller-Destination-Number');
  return decodeURIComponent(m[1]!);
}
