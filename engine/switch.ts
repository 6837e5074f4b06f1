/**
 * The switch seam, in FreeSWITCH's own vocabulary. The simulator and the FreeSWITCH driver
 * both implement `Switch`; nothing above it may know which one it talks to.
 *
 * Commands are FreeSWITCH applications with structured arguments (a driver renders them into
 * `sendmsg` execute frames and dial strings; the simulator interprets them), each tagged with
 * an Application-UUID. Completion arrives as a CHANNEL_EXECUTE_COMPLETE event carrying that
 * Application-UUID, exactly as on the wire.
 */

/** Channel events the engine consumes (names as FreeSWITCH's Event-Name). */
export const CHANNEL_EVENT_NAMES = [
  'CHANNEL_CREATE',
  'CHANNEL_PROGRESS',
  'CHANNEL_ANSWER',
  'CHANNEL_BRIDGE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE',
  'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE',
  'CHANNEL_EXECUTE_COMPLETE',
  'DTMF',
  'PLAYBACK_START',
  'PLAYBACK_STOP',
  'RECORD_START',
  'RECORD_STOP',
  // KAZOO's name for "the control connection to this channel is gone" (a driver emits it).
  'CHANNEL_DISCONNECTED',
] as const;
export type ChannelEventName = (typeof CHANNEL_EVENT_NAMES)[number];

/** One event for one channel. Header names and values are FreeSWITCH's (already URL-decoded). */
export interface ChannelEvent {
  readonly name: ChannelEventName;
  readonly uuid: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Q.850 hangup causes as FreeSWITCH names them (the ones the engine and simulator use). */
export const HANGUP_CAUSES = [
  'NORMAL_CLEARING',
  'NO_ANSWER',
  'NO_USER_RESPONSE',
  'USER_BUSY',
  'CALL_REJECTED',
  'ORIGINATOR_CANCEL',
  'USER_NOT_REGISTERED',
  'UNALLOCATED_NUMBER',
  'NO_ROUTE_DESTINATION',
  'NORMAL_TEMPORARY_FAILURE',
  'ALLOTTED_TIMEOUT',
  'LOSE_RACE',
  'SUBSCRIBER_ABSENT',
] as const;
export type HangupCause = (typeof HANGUP_CAUSES)[number];

/** The SIP response FreeSWITCH sends for a cause (sofia's q850-to-SIP table, the part we use). */
export const SIP_CODE_FOR_CAUSE: Readonly<Partial<Record<HangupCause, number>>> = {
  NORMAL_CLEARING: 200,
  NO_ANSWER: 480,
  NO_USER_RESPONSE: 408,
  USER_BUSY: 486,
  CALL_REJECTED: 603,
  ORIGINATOR_CANCEL: 487,
  USER_NOT_REGISTERED: 404,
  UNALLOCATED_NUMBER: 404,
  NO_ROUTE_DESTINATION: 404,
  NORMAL_TEMPORARY_FAILURE: 503,
  SUBSCRIBER_ABSENT: 480,
};

/** A custom SIP header's name: a token of letters, digits and '-'. */
export const SIP_HEADER_NAME_PATTERN = '^[A-Za-z0-9-]+$';
/**
 * A custom SIP header's value, as a dial string can carry it: printable, with none of FreeSWITCH's
 * quotes and escape (' " \), none of what ends or splits a variable block or a leg (, { } [ ] |),
 * no `${` (variable expansion), no `:_:` (enterprise originate separator), and spaces only
 * inside (FreeSWITCH trims the ends).
 */
export const SIP_HEADER_VALUE_PATTERN = '^(?!.*\\$\\{)(?!.*:_:)(?!\\s)[^\\x00-\\x1f\\x7f\'"\\\\,{}\\[\\]|]+(?<!\\s)$';

/** One leg of a bridge: a device, as the engine resolved it. A driver turns it into a dial string. */
export interface BridgeEndpoint {
  readonly deviceId: string;
  readonly ownerId?: string;
  readonly username: string;
  readonly realm: string;
  /** Endpoint-Delay: seconds before this leg starts ringing. */
  readonly delaySeconds: number;
  /** Endpoint-Timeout: seconds this leg may ring (0 = only the bridge timeout applies). */
  readonly timeoutSeconds: number;
}

export type SwitchCommand =
  | { readonly app: 'answer' }
  | { readonly app: 'playback'; readonly file: string; readonly terminators?: string }
  /**
   * KAZOO's default say (name_spelled, pronounced): one application that speaks `text` character
   * by character (`digits/2`, `digits/0`...), each file reported as a playback.
   */
  | { readonly app: 'say'; readonly text: string; readonly terminators?: string }
  | {
      readonly app: 'record';
      readonly path: string;
      readonly limitSeconds: number;
      readonly terminators?: string;
      readonly silenceThreshold?: number;
      readonly silenceHits?: number;
    }
  | {
      readonly app: 'bridge';
      readonly endpoints: readonly BridgeEndpoint[];
      /** simultaneous = fork to every leg (`,`); single = one leg after another (`|`). */
      readonly strategy: 'simultaneous' | 'single';
      readonly timeoutSeconds: number;
      readonly ignoreEarlyMedia: boolean;
      /** Always true from the engine: failures must come back to the callflow, not hang up. */
      readonly continueOnFail: true;
      /**
       * KAZOO's fail_on_single_reject (FreeSWITCH's originate variable of that name): the first
       * leg to fail with anything but NO_ANSWER, before any leg answered, ends the whole bridge
       * with its cause. Absent: off.
       */
      readonly failOnSingleReject?: true;
      /**
       * KAZOO's custom_sip_headers: header name → value, sent on every leg's INVITE (FreeSWITCH's
       * `sip_h_<Name>` originate variables). Names match SIP_HEADER_NAME_PATTERN, values
       * SIP_HEADER_VALUE_PATTERN. Absent: none.
       */
      readonly customSipHeaders?: Readonly<Record<string, string>>;
    }
  /** Not queued behind a running application: FreeSWITCH's `call-command: hangup`. Completes on CHANNEL_HANGUP. */
  | { readonly app: 'hangup'; readonly cause: HangupCause }
  | { readonly app: 'set'; readonly name: string; readonly value: string }
  | { readonly app: 'sleep'; readonly ms: number };

/** How a switch answers the sending of a command (FreeSWITCH's command/reply to sendmsg). */
export type CommandAck = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly gone: boolean };

export interface Switch {
  /**
   * Sends `command` to channel `uuid`, tagged with `applicationUuid` (FreeSWITCH's Event-UUID
   * on the sendmsg). Resolves with the switch's acknowledgement; the outcome comes later as
   * CHANNEL_EXECUTE_COMPLETE with the same Application-UUID.
   */
  execute(uuid: string, applicationUuid: string, command: SwitchCommand): Promise<CommandAck>;
  /** Delivers every event of channel `uuid` to `listener`, in the switch's order. Returns unsubscribe. */
  subscribe(uuid: string, listener: (event: ChannelEvent) => void): () => void;
}
