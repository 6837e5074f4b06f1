import { mulberry32 } from '../../../engine/providers.ts';
/**
 * Fault injection options: what can go wrong between FreeSWITCH and its client, for the
 * driver's robustness tests. Every fault is observable on the wire (or as a refused/reset
 * connection) and is described where it is acted upon.
 */

export type DropHow = 'destroy' | 'reset';

/** When to cut a socket. Counts are per socket; an event trigger fires when the peer fires that event for the socket's channel. */
export type DropTrigger =
  | { readonly event: string; readonly application?: string }
  | { readonly framesWritten: number }
  | { readonly commandsReceived: number };

export type Injection =
  /** An event whose envelope carries a raw `%` (`X-Fault: 100% raw`): modesl's decodeURIComponent throws on it. */
  | 'raw-percent-event'
  /** Valid framing, an event body that is not JSON (cut in the middle). */
  | 'malformed-json-event'
  /** Bytes that are not an ESL message at all, ended by an empty line. */
  | 'garbage'
  | Buffer;

export interface EslFaults {
  /**
   * Cut a socket (FIN with `destroy`, RST with `reset`) once, on the first socket the trigger
   * matches. `sockets` defaults to the call's outbound socket for an event trigger, any socket otherwise.
   */
  readonly drop?: { readonly when: DropTrigger; readonly how?: DropHow; readonly sockets?: 'outbound' | 'inbound' | 'any' };
  /** Hold the reply to commands starting with `command` until `events` more events went out on that socket (FreeSWITCH flushes its event queue first). */
  readonly delayReply?: { readonly command: string; readonly events: number; readonly times?: number };
  /** Answer the next `count` sendmsg with `-ERR invalid session id [<uuid>]` and do not run them. */
  readonly rejectSendmsg?: number;
  /** Write each message in seeded random pieces of 1..maxBytes bytes, one event-loop turn apart. */
  readonly split?: { readonly seed: number; readonly maxBytes: number };
  /** Gather everything written in one event-loop turn into a single write. */
  readonly coalesce?: boolean;
  /** Write `what` after the socket's `afterFrames`-th message. */
  readonly inject?: { readonly afterFrames: number; readonly what: Injection; readonly sockets?: 'outbound' | 'inbound' | 'any' };
  /** Reset (RST) the first `count` inbound connections before any byte, like a switch that is not up yet. */
  readonly refuseInbound?: number;
}

/** The bytes of an injection. */
export function injectionBytes(what: Injection): Buffer {
  if (Buffer.isBuffer(what)) return what;
  switch (what) {
    case 'raw-percent-event': {
      const body = 'Event-Name: HEARTBEAT\nCore-UUID: fault\n\n';
      return Buffer.from(`Content-Length: ${body.length}\nContent-Type: text/event-plain\nX-Fault: 100% raw\n\n${body}`);
    }
    case 'malformed-json-event': {
      const body = '{"Event-Name":"CHANNEL_ANSW';
      return Buffer.from(`Content-Length: ${body.length}\nContent-Type: text/event-json\n\n${body}`);
    }
    case 'garbage':
      return Buffer.from('this is not an event socket message\n\n');
  }
}

/** mulberry32 (engine/providers.ts) in [0, 1), for split sizes that are the same on every run. */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 2 ** 32;
}
