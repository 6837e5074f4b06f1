import type { AccountView } from './account-view.ts';
import type { BridgeEndpoint, HangupCause } from '../switch.ts';
import type { HangupBy } from '../trace/rows.ts';
import type { OutboundMessage, OutboxReceipt } from '../outbox.ts';
import type { VoicemailStore } from '../voicemail.ts';

/** What a module knows about the call when it starts. */
export interface CallInfo {
  readonly callId: string;
  readonly callerNumber: string;
  readonly callerName: string;
  readonly calleeNumber: string;
  /** Owner of the calling device (KAZOO's owner_id), if the caller is one of the account's devices. */
  readonly ownerId?: string;
  /** The calling device (KAZOO's authorizing_id). */
  readonly authorizingId?: string;
  readonly captureGroup?: string;
  readonly captureGroups: Readonly<Record<string, string>>;
}

/** How a bridge rings (see the bridge SwitchCommand for each field). */
export interface BridgeOptions {
  readonly timeoutSeconds: number;
  readonly strategy: 'simultaneous' | 'single';
  readonly ignoreEarlyMedia: boolean;
  /** KAZOO's fail_on_single_reject: the first refusal before any answer ends the bridge. */
  readonly failOnSingleReject?: boolean;
  /** KAZOO's custom_sip_headers: header name → value, on every leg. */
  readonly customSipHeaders?: Readonly<Record<string, string>>;
}

export type BridgeOutcome =
  | { readonly result: 'answered'; readonly otherLeg?: string; readonly hangupCause: string | null }
  | { readonly result: 'failed'; readonly cause: string; readonly sipCode: string | null }
  | { readonly result: 'error'; readonly reason: string };

export interface PlaybackResult {
  readonly response: string;
  /** The DTMF digit that cut the prompt short, if any. */
  readonly terminator?: string;
}

export interface RecordResult {
  readonly path: string;
  readonly recordMs: number;
  readonly terminator?: string;
}

export interface HangupInfo {
  readonly disposition: string | null;
  readonly cause: string;
  readonly code: string;
}

/**
 * KAZOO's hangup_info for a channel that ended (kapps_util:get_call_termination_reason): a
 * channel that went without a cause (a dropped socket, a destroy with no hangup before it) reads
 * "UNSPECIFIED", and one without a SIP code (ALLOTTED_TIMEOUT) reads "sip:600".
 */
export function hangupInfo(disposition: string | null, cause: string | null, code: string | null): HangupInfo {
  return { disposition, cause: cause ?? 'UNSPECIFIED', code: code ?? 'sip:600' };
}

/** The call's final state, as post-hangup handlers see it. */
export interface FinalCallState {
  readonly info: CallInfo;
  readonly accountId: string;
  readonly startedAt: number;
  readonly answeredAt: number | null;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly answered: boolean;
  readonly callBridged: boolean;
  readonly messageLeft: boolean;
  readonly hangupBy: HangupBy | null;
  /** KAZOO's hangup_info: absent when the channel was never seen to end. */
  readonly hangup?: HangupInfo;
  readonly variables: Readonly<Record<string, string>>;
}

export interface PostHangupHandler {
  /** Identical keys collapse into one handler (KAZOO's usort of {Module, Function, Args}). */
  readonly key: string;
  readonly module: string;
  run(final: FinalCallState): Promise<Record<string, unknown>>;
}

/**
 * Everything a module may do to or learn about a call. Modules never see the switch, the clock
 * or the database: only this.
 */
export interface CallControl {
  /** The execution this call is recorded under (idempotency keys use it). */
  readonly executionId: string;
  readonly info: CallInfo;
  readonly account: AccountView;
  /** The module that ran before this one (KAZOO's cf_last_action), if any. */
  readonly lastModule: string | undefined;
  now(): number;
  readonly answered: boolean;
  readonly bridged: boolean;
  readonly gone: boolean;
  readonly messageLeft: boolean;

  answer(): Promise<void>;
  playback(file: string, opts?: { terminators?: string }): Promise<PlaybackResult>;
  /** Speaks `text` character by character (KAZOO's say, name_spelled): box numbers, counts. */
  say(text: string, opts?: { terminators?: string }): Promise<PlaybackResult>;
  record(opts: { limitSeconds: number; terminators?: string; extension?: string }): Promise<RecordResult>;
  bridge(endpoints: readonly BridgeEndpoint[], opts: BridgeOptions): Promise<BridgeOutcome>;
  /** Reads DTMF pressed since the last flush, waiting as needed. Resolves with what was collected. */
  collectDigits(opts: { maxDigits: number; timeoutMs: number; interdigitMs: number; terminators?: string }): Promise<string>;
  flushDigits(): void;
  /** While on, the step log records DTMF key presses without their digit (a PIN being entered). */
  maskDigits(on: boolean): void;
  sleep(ms: number): Promise<void>;
  hangup(cause?: HangupCause): Promise<void>;
  setVariable(name: string, value: string): Promise<void>;
  variable(name: string): string | undefined;
  /** KAZOO's update_call(message_left=true): visible to post-hangup handlers. */
  markMessageLeft(): void;
  onHangup(handler: PostHangupHandler): void;
  /** The call record as it stands now (no hangup data until the channel has ended). */
  currentState(): FinalCallState;
  /** The voicemail store, when the engine was given one (without it, messages cannot be kept). */
  readonly voicemail: VoicemailStore | undefined;
  /** Hands messages to the durable outbox; never waits for delivery. */
  sendMessages(messages: readonly OutboundMessage[]): OutboxReceipt[];
  /** A line for the step log about what this module decided and why. */
  note(text: string): void;
}
