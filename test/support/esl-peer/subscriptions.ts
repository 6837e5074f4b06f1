import type { EventFormat, Header } from './wire-format.ts';

/**
 * One socket's event subscription, as mod_event_socket keeps it: the event list (or ALL), CUSTOM
 * subclasses, header filters, the myevents uuid filter and the format every event is sent in.
 */

/** switch_event_types_t names (switch_name_event matches them case-insensitively). */
export const EVENT_NAMES = [
  'CUSTOM', 'CLONE', 'CHANNEL_CREATE', 'CHANNEL_DESTROY', 'CHANNEL_STATE', 'CHANNEL_CALLSTATE', 'CHANNEL_ANSWER',
  'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HOLD',
  'CHANNEL_UNHOLD', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_UNPARK', 'CHANNEL_APPLICATION', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID',
  'API', 'LOG', 'INBOUND_CHAN', 'OUTBOUND_CHAN', 'STARTUP', 'SHUTDOWN', 'PUBLISH', 'UNPUBLISH', 'TALK', 'NOTALK',
  'SESSION_CRASH', 'MODULE_LOAD', 'MODULE_UNLOAD', 'DTMF', 'MESSAGE', 'PRESENCE_IN', 'NOTIFY_IN', 'PRESENCE_OUT',
  'PRESENCE_PROBE', 'MESSAGE_WAITING', 'MESSAGE_QUERY', 'ROSTER', 'CODEC', 'BACKGROUND_JOB', 'DETECTED_SPEECH',
  'DETECTED_TONE', 'PRIVATE_COMMAND', 'HEARTBEAT', 'TRAP', 'ADD_SCHEDULE', 'DEL_SCHEDULE', 'EXE_SCHEDULE',
  'RE_SCHEDULE', 'RELOADXML', 'NOTIFY', 'PHONE_FEATURE', 'PHONE_FEATURE_SUBSCRIBE', 'SEND_MESSAGE', 'RECV_MESSAGE',
  'REQUEST_PARAMS', 'CHANNEL_DATA', 'GENERAL', 'COMMAND', 'SESSION_HEARTBEAT', 'CLIENT_DISCONNECTED',
  'SERVER_DISCONNECTED', 'SEND_INFO', 'RECV_INFO', 'RECV_RTCP_MESSAGE', 'SEND_RTCP_MESSAGE', 'CALL_SECURE', 'NAT',
  'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP', 'CALL_UPDATE', 'FAILURE', 'SOCKET_DATA',
  'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CONFERENCE_DATA_QUERY', 'CONFERENCE_DATA', 'CALL_SETUP_REQ',
  'CALL_SETUP_RESULT', 'CALL_DETAIL', 'DEVICE_STATE', 'TEXT', 'SHUTDOWN_REQUESTED', 'ALL',
] as const;

/** The fixed list `myevents` subscribes (mod_event_socket.c). */
export const MYEVENTS = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
] as const;

const ALL_NAMES = EVENT_NAMES.filter((n) => n !== 'ALL');

function eventName(token: string): string | undefined {
  const t = token.toUpperCase().replace(/^SWITCH_EVENT_/, '');
  return (EVENT_NAMES as readonly string[]).includes(t) ? t : undefined;
}

const FORMATS: readonly EventFormat[] = ['plain', 'json', 'xml'];

function get(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

export class Subscriptions {
  format: EventFormat = 'plain';
  /** LFLAG_EVENTS: set by the first accepted `event`/`myevents`, cleared by `noevents`. */
  private enabled = false;
  private all = false;
  private readonly names = new Set<string>();
  private readonly subclasses = new Set<string>();
  private filters: Header[] = [];
  private myevents = false;
  /** The session myevents filters on; null = myevents for a uuid that did not exist (filters nothing). */
  private myUuid: string | null = null;

  /** `event <fmt> <names...>`; the reply text. An unknown format leaves the current one and reads as a name. */
  event(tokens: readonly string[]): string {
    let keys = 0;
    let custom = false;
    tokens.forEach((tok, i) => {
      if (i === 0 && (FORMATS as readonly string[]).includes(tok.toLowerCase())) {
        this.format = tok.toLowerCase() as EventFormat;
        return;
      }
      if (custom) {
        this.subclasses.add(tok);
        return;
      }
      const name = eventName(tok);
      if (!name) return;
      keys++;
      if (name === 'ALL') this.all = true;
      else this.names.add(name);
      if (name === 'CUSTOM') custom = true;
    });
    if (keys === 0) return '-ERR no keywords supplied';
    this.enabled = true;
    return `+OK event listener enabled ${this.format}`;
  }

  nixevent(tokens: readonly string[]): string {
    let keys = 0;
    let custom = false;
    for (const tok of tokens) {
      if (custom) {
        this.subclasses.delete(tok);
        continue;
      }
      const name = eventName(tok);
      if (!name) continue;
      keys++;
      if (name === 'CUSTOM') custom = true;
      else if (name === 'ALL') {
        this.all = false;
        this.names.clear();
      } else {
        // ALL becomes every name one by one, so that one can be taken out.
        if (this.all) for (const n of ALL_NAMES) this.names.add(n);
        this.all = false;
        this.names.delete(name);
      }
    }
    if (keys === 0) return '-ERR no keywords supplied';
    this.enabled = true;
    return '+OK events nixed';
  }

  noevents(): string {
    if (!this.enabled) return '-ERR not listening for events';
    this.enabled = false;
    this.all = false;
    this.names.clear();
    this.subclasses.clear();
    return '+OK no longer listening for events';
  }

  get myeventsEnabled(): boolean {
    return this.myevents;
  }

  /** Subscribes the fixed myevents list, filtered on `uuid` (null: no filter). `xml`/`json` in the command choose the format. */
  enableMyevents(uuid: string | null, command: string): void {
    for (const n of MYEVENTS) this.names.add(n);
    this.myevents = true;
    this.myUuid = uuid;
    this.enabled = true;
    if (/xml|XML/.test(command)) this.format = 'xml';
    if (/json|JSON/.test(command)) this.format = 'json';
  }

  /** `filter <header> <value>`, `filter add ...`, `filter delete <header> [value] | all`; the reply text. */
  filter(rest: string): string {
    const trimmed = rest.replace(/^ +/, '');
    const sp = trimmed.indexOf(' ');
    let name = sp < 0 ? trimmed : trimmed.slice(0, sp);
    let value: string | null = sp < 0 ? null : trimmed.slice(sp + 1);
    const split = (s: string): [string, string | null] => {
      const i = s.indexOf(' ');
      return i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
    };
    if (name.toLowerCase() === 'delete' && value !== null) {
      [name, value] = split(value);
      if (name.toLowerCase() === 'all') this.filters = [];
      else this.filters = this.filters.filter(([n, v]) => !(n.toLowerCase() === name.toLowerCase() && (value === null || v === value)));
      return `+OK filter deleted. [${name}][${value ?? ''}]`;
    }
    if (value === null) return '-ERR invalid syntax';
    if (name.toLowerCase() === 'add') [name, value] = split(value);
    this.filters.push([name, value ?? '']);
    return `+OK filter added. [${name}]=[${value ?? ''}]`;
  }

  /** mod_event_socket's event_handler: type, then filters, then the myevents uuid (or Job-Owner-UUID) check. */
  wants(headers: readonly Header[]): boolean {
    if (!this.enabled) return false;
    const name = get(headers, 'Event-Name') ?? '';
    const subclass = get(headers, 'Event-Subclass');
    let send = this.all || (this.names.has(name) && (name !== 'CUSTOM' || subclass === undefined || this.subclasses.has(subclass)));
    if (send && this.filters.length > 0) send = this.passesFilters(headers);
    if (send && this.myevents) {
      const uuid = get(headers, 'Unique-ID');
      if (uuid === undefined || (this.myUuid !== null && uuid !== this.myUuid)) send = false;
      if (this.myUuid !== null && get(headers, 'Job-Owner-UUID') === this.myUuid) send = true;
    }
    return send;
  }

  private passesFilters(headers: readonly Header[]): boolean {
    let send = false;
    for (const [fname, fvalue] of this.filters) {
      const hval = get(headers, fname);
      if (hval === undefined) continue;
      const m = /^[+\- ]*/.exec(fvalue)![0];
      const positive = !m.trimEnd().endsWith('-');
      const compare = fvalue.slice(m.length);
      if (send && positive) continue;
      let hit: boolean;
      if (fvalue.startsWith('/')) {
        try {
          hit = new RegExp(compare.replace(/^\/|\/$/g, '')).test(hval);
        } catch {
          hit = false;
        }
      } else hit = hval.toLowerCase() === compare.toLowerCase();
      if (hit) {
        if (!positive) return false;
        send = true;
      }
    }
    return send;
  }
}
