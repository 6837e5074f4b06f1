import { randomUUID } from 'node:crypto';
import { CHANNEL_EVENT_NAMES } from '../engine/switch.ts';
import { recordedChannelEvents, recordedEvent, type RecordedEvent } from './esl-recorded.ts';

/**
 * A byte stream of recorded FreeSWITCH JSON events for one channel, as its outbound socket
 * would carry them, repeated as many times as asked.
 */

/**
 * What FreeSWITCH sends on the driver's socket: `myevents`' fixed list, what the driver adds
 * (`event json PLAYBACK_START PLAYBACK_STOP RECORD_START RECORD_STOP`) and modesl's own
 * `event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE` (esl-notes, "Outbound mode"). The
 * recording subscribed to ALL: its CODEC and CHANNEL_CALLSTATE events never reach this socket.
 */
const SUBSCRIBED = new Set([
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
  'PLAYBACK_START', 'PLAYBACK_STOP', 'RECORD_START', 'RECORD_STOP', 'BACKGROUND_JOB',
]);

/**
 * The events the engine gets (engine/switch.ts), for the driver's socket channel: CHANNEL_CREATE
 * is synthesized at `connect` (a wire one is dropped), CHANNEL_DISCONNECTED is the driver's own.
 * CHANNEL_EXECUTE/COMPLETE reach the engine only for applications it started: the benchmark's
 * driver run makes every Application-UUID in the stream one of those.
 */
export const reachesEngine = (name: string): boolean =>
  (CHANNEL_EVENT_NAMES as readonly string[]).includes(name) && name !== 'CHANNEL_CREATE' && name !== 'CHANNEL_DISCONNECTED';

/**
 * One cycle: the recorded channel's events in wire order, those its socket would carry, up to
 * (not including) CHANNEL_HANGUP_COMPLETE. That one, and the CHANNEL_DESTROY after it, end
 * the call on the driver (it sends `exit` and takes nothing more from the channel), so a
 * stream that repeats the call cannot hold them.
 */
export function eventCycle(): RecordedEvent[] {
  const all = recordedChannelEvents();
  const end = all.findIndex((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  return all.slice(0, end < 0 ? all.length : end).filter((e) => SUBSCRIBED.has(e.name));
}

export interface EventStream {
  readonly bytes: Buffer;
  readonly events: number;
  /** Events the engine's listener gets (the rest the driver parses and drops). */
  readonly delivered: number;
  readonly filtered: number;
  /** The Application-UUIDs of the stream's applications (each cycle has its own), in order. */
  readonly appUuids: readonly string[];
  readonly cycle: { readonly events: number; readonly delivered: number; readonly names: string };
}

/**
 * `cycles` repetitions of the cycle for channel `channelUuid`, each with fresh Application-UUIDs,
 * then one recorded DTMF, so that the stream ends with an event the engine gets: the moment
 * the driver delivers it, every event before it has been parsed.
 */
export function buildStream(channelUuid: string, cycles: number): EventStream {
  const cycle = eventCycle();
  const last = recordedEvent(cycle.find((e) => e.name === 'DTMF')!.n);
  const chunks: Buffer[] = [];
  const appUuids: string[] = [];
  for (let c = 0; c < cycles; c++) {
    const fresh = new Map<string, string>();
    let text = '';
    for (const e of cycle) {
      if (e.appUuid === null) {
        text += e.template.render([channelUuid]);
        continue;
      }
      let id = fresh.get(e.appUuid);
      if (!id) {
        id = randomUUID();
        fresh.set(e.appUuid, id);
        appUuids.push(id);
      }
      text += e.template.render([channelUuid, id]);
    }
    chunks.push(Buffer.from(text, 'utf8'));
  }
  chunks.push(Buffer.from(last.template.render([channelUuid]), 'utf8'));
  const perCycleDelivered = cycle.filter((e) => reachesEngine(e.name)).length;
  const events = cycles * cycle.length + 1;
  const delivered = cycles * perCycleDelivered + 1;
  const counts = new Map<string, number>();
  for (const e of cycle) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
  return {
    bytes: Buffer.concat(chunks),
    events,
    delivered,
    filtered: events - delivered,
    appUuids,
    cycle: {
      events: cycle.length,
      delivered: perCycleDelivered,
      names: [...counts].map(([n, k]) => (k > 1 ? `${n} ×${k}` : n)).join(', '),
    },
  };
}
