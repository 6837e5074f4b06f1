import { longestRingMs } from '../bridge-timing.ts';
import { ChannelGoneError, OutboxMissingError } from '../errors.ts';
import type { Outbox, OutboundMessage, OutboxReceipt } from '../outbox.ts';
import type { VoicemailStore } from '../voicemail.ts';
import type { EngineClock, IdProvider } from '../providers.ts';
import type { BridgeEndpoint, ChannelEvent, HangupCause, Switch, SwitchCommand } from '../switch.ts';
import type { ExecutionTrace } from '../trace/execution-trace.ts';
import type { AccountView } from './account-view.ts';
import {
  hangupInfo,
  type BridgeOptions,
  type BridgeOutcome,
  type CallControl,
  type CallInfo,
  type FinalCallState,
  type PlaybackResult,
  type PostHangupHandler,
  type RecordResult,
} from './call-control.ts';
import type { ChannelFacts, ChannelInput } from './channel-machine.ts';
import { ChannelState } from './channel-state.ts';
import { CommandTracker, type Completion } from './command-tracker.ts';
import { DigitBuffer } from './digit-buffer.ts';
import { PostHangupHandlers } from './post-hangup.ts';

/** The header in which a prompt's completion says which key cut it short. */
const TERMINATOR = 'variable_playback_terminator_used';

/** A playback's (or say's) completion: the digit that cut it short, if one did. */
function playbackResult(c: Completion): PlaybackResult {
  const terminator = c.headers[TERMINATOR];
  return terminator ? { response: c.response, terminator } : { response: c.response };
}

/** How long each kind of command may take before it fails as a timeout (ms). */
const QUICK_COMMAND_MS = 10_000;
const PLAYBACK_MS = 600_000;
/**
 * KAZOO waits timeout + 20 s for a bridge (callflow.bridge_timeout_extended_ms). The 20 s are
 * added here to the longest the switch can ring, which is longer for `single` and for delays.
 */
const BRIDGE_EXTRA_MS = 20_000;
/** KAZOO waits up to 60 s for RECORD_STOP after the channel is gone. */
const RECORD_EXTRA_MS = 60_000;

export interface CallDeps {
  readonly sw: Switch;
  readonly clock: EngineClock;
  readonly ids: IdProvider;
  readonly trace: ExecutionTrace;
  readonly account: AccountView;
  /** Where recordings go; the switch writes the file. */
  readonly recordingDir: string;
  readonly executionId: string;
  /** When the execution started, on the call's clock. */
  readonly startedAt: number;
  readonly outbox?: Outbox;
  readonly voicemail?: VoicemailStore;
}

export interface ChannelListener {
  onHungUp(): void;
  onDestroyed(): void;
}

/** The headers that carry a key the caller pressed. */
const DIGIT_HEADERS = ['DTMF-Digit', TERMINATOR];
/** The applications that read playback_terminators and say which key ended them. */
const PROMPT_APPS = new Set(['playback', 'say', 'record']);

/**
 * The event as the step log keeps it. FreeSWITCH leaves the last terminator on the channel until
 * the next prompt starts, so every event in between repeats it (the next CHANNEL_EXECUTE, a `set`'s
 * completion): a PIN's first key would outlive its masking. It is kept only where it means
 * something, on a prompt's completion; while digits are masked, the keys are masked there too.
 */
function forTheLog(e: ChannelEvent, masked: boolean): ChannelEvent {
  const stale = e.headers[TERMINATOR] !== undefined && !(e.name === 'CHANNEL_EXECUTE_COMPLETE' && PROMPT_APPS.has(e.headers['Application'] ?? ''));
  if (!stale && !(masked && DIGIT_HEADERS.some((h) => e.headers[h] !== undefined))) return e;
  const headers = { ...e.headers };
  if (stale) delete headers[TERMINATOR];
  if (masked) for (const h of DIGIT_HEADERS) if (headers[h] !== undefined) headers[h] = 'masked';
  return { ...e, headers };
}

/**
 * One call as the engine sees it: the channel state machine fed by switch events, the commands
 * in flight, queued DTMF, post-hangup handlers, and the call record modules may update. It is
 * the only way modules reach the switch.
 */
export class Call implements CallControl {
  readonly handlers = new PostHangupHandlers();
  lastModule: string | undefined;
  private readonly channel: ChannelState;
  private readonly commands: CommandTracker;
  private readonly digits: DigitBuffer;
  private readonly variables = new Map<string, string>();
  private listener: ChannelListener | undefined;
  private unsubscribe: () => void = () => {};
  private messageLeftFlag = false;
  private engineAskedHangup = false;

  constructor(
    readonly info: CallInfo,
    private readonly deps: CallDeps,
  ) {
    this.channel = new ChannelState(deps.clock.now());
    this.commands = new CommandTracker(deps.sw, info.callId, deps.clock, deps.ids, deps.trace);
    this.digits = new DigitBuffer(deps.clock);
  }

  get account(): AccountView {
    return this.deps.account;
  }

  get executionId(): string {
    return this.deps.executionId;
  }

  currentState(): FinalCallState {
    return this.finalState(this.deps.startedAt);
  }

  get voicemail(): VoicemailStore | undefined {
    return this.deps.voicemail;
  }

  sendMessages(messages: readonly OutboundMessage[]): OutboxReceipt[] {
    if (!this.deps.outbox) throw new OutboxMissingError();
    return this.deps.outbox.enqueue(this.deps.executionId, this.now(), messages);
  }

  start(listener: ChannelListener): void {
    this.listener = listener;
    this.unsubscribe = this.deps.sw.subscribe(this.info.callId, (e) => this.onEvent(e));
  }

  /** The execution is over: nothing of this call may keep a timer or a promise alive. */
  stop(): void {
    this.unsubscribe();
    this.commands.failAll();
    this.digits.close();
  }

  private feed(input: ChannelInput): void {
    this.channel.feed(input);
  }

  /**
   * The executor started a node. Only after a bridged callee left does the channel need to know
   * (a hangup then no longer follows the callee's): every other node start costs one field read.
   */
  nodeStarted(): void {
    if (this.facts.calleeEnded) this.feed({ type: 'NODE_STARTED', at: this.deps.clock.now() });
  }

  private get facts(): ChannelFacts {
    return this.channel.current.context;
  }

  private get stateName(): string {
    return String(this.channel.current.value);
  }

  get answered(): boolean {
    return this.facts.answeredAt !== null && !this.gone;
  }
  get bridged(): boolean {
    return this.stateName === 'bridged';
  }
  /** Hung up or destroyed: no new node may start. */
  get gone(): boolean {
    const s = this.stateName;
    return s === 'hungUp' || s === 'destroyed';
  }
  get destroyed(): boolean {
    return this.stateName === 'destroyed';
  }
  get messageLeft(): boolean {
    return this.messageLeftFlag;
  }

  now(): number {
    return this.deps.clock.now();
  }

  private onEvent(e: ChannelEvent): void {
    // A PIN is a secret: while digits are masked the step log gets the key press, not the key,
    // nor the digit that cut a prompt short (its first key, on the prompt's completion).
    this.deps.trace.event(forTheLog(e, this.digitsMasked));
    const at = this.deps.clock.now();
    const wasGone = this.gone;
    switch (e.name) {
      case 'CHANNEL_EXECUTE_COMPLETE':
        this.commands.complete(e);
        return;
      case 'DTMF': {
        const d = e.headers['DTMF-Digit'];
        if (d && /^[0-9*#A-D]$/.test(d)) this.digits.push(d);
        return;
      }
      case 'CHANNEL_BRIDGE':
        this.commands.holdTimeouts('bridge');
        this.feed({ type: e.name, at });
        break;
      case 'CHANNEL_PROGRESS':
      case 'CHANNEL_ANSWER':
      case 'CHANNEL_UNBRIDGE':
        this.feed({ type: e.name, at });
        break;
      case 'CHANNEL_DESTROY':
      case 'CHANNEL_DISCONNECTED':
        this.feed({ type: e.name, at, engineAsked: this.engineAskedHangup });
        break;
      case 'CHANNEL_HANGUP':
        this.feed({ type: e.name, at, headers: e.headers, engineAsked: this.engineAskedHangup });
        this.commands.completeApp('hangup', e, e.headers['Hangup-Cause'] ?? '_none_');
        break;
      case 'CHANNEL_HANGUP_COMPLETE':
        this.feed({ type: e.name, at, headers: e.headers, engineAsked: this.engineAskedHangup });
        break;
      default:
        return;
    }
    if (!wasGone && this.gone) {
      this.digits.close();
      this.listener?.onHungUp();
    }
    if (this.destroyed) {
      this.commands.failAll();
      this.listener?.onDestroyed();
    }
  }

  private async run(command: SwitchCommand, timeoutMs: number): Promise<Completion> {
    if (this.gone) {
      const { app, ...args } = command;
      const row = this.deps.trace.command(this.info.callId, app, args, '');
      row.error_kind = 'channel_gone';
      throw new ChannelGoneError(this.info.callId, command.app);
    }
    return this.commands.run(command, timeoutMs);
  }

  async answer(): Promise<void> {
    if (this.facts.answeredAt !== null && !this.gone) return;
    await this.run({ app: 'answer' }, QUICK_COMMAND_MS);
  }

  async playback(file: string, opts: { terminators?: string } = {}): Promise<PlaybackResult> {
    return playbackResult(await this.run({ app: 'playback', file, terminators: opts.terminators }, PLAYBACK_MS));
  }

  async say(text: string, opts: { terminators?: string } = {}): Promise<PlaybackResult> {
    return playbackResult(await this.run({ app: 'say', text, terminators: opts.terminators }, PLAYBACK_MS));
  }

  async record(opts: { limitSeconds: number; terminators?: string; extension?: string }): Promise<RecordResult> {
    const name = this.deps.ids.uuid().replace(/-/g, '');
    const path = `${this.deps.recordingDir}/${name}.${opts.extension ?? 'wav'}`;
    const c = await this.run(
      {
        app: 'record',
        path,
        limitSeconds: opts.limitSeconds,
        terminators: opts.terminators ?? '0123456789*#',
        silenceThreshold: 200,
        silenceHits: 5,
      },
      opts.limitSeconds * 1000 + RECORD_EXTRA_MS,
    );
    const recordMs = Number(c.headers['variable_record_ms'] ?? '0');
    const terminator = c.headers[TERMINATOR];
    return {
      path,
      recordMs: Number.isFinite(recordMs) ? recordMs : 0,
      ...(terminator ? { terminator } : {}),
    };
  }

  async bridge(endpoints: readonly BridgeEndpoint[], opts: BridgeOptions): Promise<BridgeOutcome> {
    let c: Completion;
    try {
      c = await this.run(
        {
          app: 'bridge',
          endpoints,
          strategy: opts.strategy,
          timeoutSeconds: opts.timeoutSeconds,
          ignoreEarlyMedia: opts.ignoreEarlyMedia,
          continueOnFail: true,
          // Only when set, so the command (and the step log's args) of a plain bridge is unchanged.
          ...(opts.failOnSingleReject ? { failOnSingleReject: true as const } : {}),
          ...(opts.customSipHeaders && Object.keys(opts.customSipHeaders).length > 0 ? { customSipHeaders: { ...opts.customSipHeaders } } : {}),
        },
        longestRingMs(endpoints, opts.strategy, opts.timeoutSeconds) + BRIDGE_EXTRA_MS,
      );
    } catch (err) {
      if (err instanceof ChannelGoneError) throw err;
      return { result: 'error', reason: (err as Error).message };
    }
    return bridgeOutcome(c);
  }

  collectDigits(opts: { maxDigits: number; timeoutMs: number; interdigitMs: number; terminators?: string }): Promise<string> {
    return this.digits.collect(opts);
  }

  flushDigits(): void {
    this.digits.flush();
  }

  async sleep(ms: number): Promise<void> {
    await this.run({ app: 'sleep', ms }, ms + QUICK_COMMAND_MS);
  }

  async hangup(cause: HangupCause = 'NORMAL_CLEARING'): Promise<void> {
    if (this.gone) return;
    this.engineAskedHangup = true;
    try {
      await this.run({ app: 'hangup', cause }, QUICK_COMMAND_MS);
    } catch (err) {
      // The channel going away is what a hangup is for.
      if (!(err instanceof ChannelGoneError)) throw err;
    }
  }

  async setVariable(name: string, value: string): Promise<void> {
    await this.run({ app: 'set', name, value }, QUICK_COMMAND_MS);
    this.variables.set(name, value);
  }

  variable(name: string): string | undefined {
    return this.variables.get(name);
  }

  private digitsMasked = false;

  maskDigits(on: boolean): void {
    this.digitsMasked = on;
  }

  markMessageLeft(): void {
    this.messageLeftFlag = true;
  }

  onHangup(handler: PostHangupHandler): void {
    if (this.handlers.add(handler)) this.note(`registered post-hangup handler ${handler.key}`);
    else this.note(`post-hangup handler ${handler.key} already registered: collapsed into it`);
  }

  note(text: string): void {
    this.deps.trace.note(text);
  }

  /** The call record as it stands at the end (KAZOO's final call plus hangup_info). */
  finalState(startedAt: number): FinalCallState {
    const f = this.facts;
    const endedAt = f.destroyedAt ?? f.hungUpAt ?? this.now();
    return {
      info: this.info,
      accountId: this.account.id,
      startedAt,
      answeredAt: f.answeredAt,
      endedAt,
      durationMs: (f.hungUpAt ?? endedAt) - startedAt,
      answered: f.answeredAt !== null,
      callBridged: f.everBridged,
      messageLeft: this.messageLeftFlag,
      hangupBy: f.hangupBy,
      ...(f.hungUpAt !== null ? { hangup: hangupInfo(f.disposition, f.hangupCause, f.hangupCode) } : {}),
      variables: Object.fromEntries(this.variables),
    };
  }

  get channelFacts(): Readonly<ChannelFacts> {
    return this.facts;
  }
}

function bridgeOutcome(c: Completion): BridgeOutcome {
  const h = c.headers;
  const disposition = h['variable_originate_disposition'];
  if (disposition === 'SUCCESS' || h['variable_DIALSTATUS'] === 'SUCCESS') {
    return {
      result: 'answered',
      otherLeg: h['variable_last_bridge_to'],
      hangupCause: h['variable_last_bridge_hangup_cause'] ?? null,
    };
  }
  const cause =
    h['variable_originate_failed_cause'] ?? disposition ?? h['variable_last_bridge_hangup_cause'] ?? 'UNSPECIFIED';
  const sip = h['variable_last_bridge_proto_specific_hangup_cause'] ?? null;
  return { result: 'failed', cause, sipCode: sip };
}
