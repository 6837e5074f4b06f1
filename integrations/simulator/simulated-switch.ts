import type { IdProvider } from '../../engine/providers.ts';
import { SIP_CODE_FOR_CAUSE, type ChannelEvent, type ChannelEventName, type CommandAck, type HangupCause, type Switch, type SwitchCommand } from '../../engine/switch.ts';
import type { VirtualClock } from '../../engine/virtual-clock.ts';
import { dialStatus, planBridge } from './bridge-plan.ts';
import { matchesPrompt, promptName, spelledFiles } from './prompts.ts';
import type { DeviceBehaviour, DtmfAction, Scenario } from './scenario-schema.ts';
import { WavWriter } from './wav.ts';

/** Gap between the digits of one scripted key press sequence. */
const INTERDIGIT_MS = 150;
const NO_ANSWER: DeviceBehaviour = { action: 'no_answer' };

interface RunningApp {
  readonly appUuid: string;
  readonly app: string;
  onDtmf(digit: string): void;
  /** The channel hung up: finish now (FreeSWITCH still completes the running application). */
  onHangup(): void;
}

interface SimChannel {
  readonly uuid: string;
  readonly createdAt: number;
  readonly callerNumber: string;
  readonly callerName: string;
  readonly destination: string;
  answered: boolean;
  answeredAt: number | null;
  hungUp: boolean;
  bridgedTo: string | null;
  readonly queue: { appUuid: string; command: SwitchCommand }[];
  running: RunningApp | null;
  readonly timers: Set<number>;
  recordings: number;
  readonly promptDigits: DtmfAction[];
}

/**
 * An application a terminator digit cuts short (playback, record), as FreeSWITCH reports it:
 * `variable_playback_terminator_used`. A hangup ends it too.
 */
function interruptible(
  appUuid: string,
  app: string,
  terminators: string | undefined,
  done: (vars?: Record<string, string>) => void,
): RunningApp {
  return {
    appUuid,
    app,
    onDtmf: (digit) => {
      if (terminators?.includes(digit)) done({ variable_playback_terminator_used: digit });
    },
    onHangup: () => done(),
  };
}

/**
 * A switch that plays a scenario: the caller, the devices and the callees behave as the
 * scenario says, on virtual time, and every effect is reported as the FreeSWITCH events and
 * headers a real switch would send (see ../../shared/fixtures/freeswitch/).
 */
export class SimulatedSwitch implements Switch {
  private readonly channels = new Map<string, SimChannel>();
  private readonly listeners = new Map<string, (e: ChannelEvent) => void>();
  /** The switch writes recordings, as FreeSWITCH does on its own disk. */
  private readonly wav = new WavWriter();

  constructor(
    private readonly clock: VirtualClock,
    private readonly ids: IdProvider,
    private readonly scenario: Scenario,
  ) {}

  /** A call arrives from the scenario's caller: creates its channel and arms the caller's script. */
  originate(): string {
    const sc = this.scenario;
    const ch: SimChannel = {
      uuid: this.ids.uuid(),
      createdAt: this.clock.now(),
      callerNumber: sc.call.from,
      callerName: sc.call.caller_id_name ?? sc.call.from,
      destination: sc.call.to ?? '',
      answered: false,
      answeredAt: null,
      hungUp: false,
      bridgedTo: null,
      queue: [],
      running: null,
      timers: new Set(),
      recordings: 0,
      promptDigits: sc.caller.dtmf.filter((d) => d.on_prompt !== undefined),
    };
    this.channels.set(ch.uuid, ch);
    this.emit(ch, 'CHANNEL_CREATE');
    if (sc.caller.hangup_at_s !== undefined) this.after(ch, sc.caller.hangup_at_s * 1000, () => this.callerHangsUp(ch));
    for (const d of sc.caller.dtmf) if (d.at_s !== undefined) this.after(ch, d.at_s * 1000, () => this.press(ch, d.digits));
    this.after(ch, sc.max_call_s * 1000, () => this.end(ch, 'ALLOTTED_TIMEOUT', ch.answered ? 'send_bye' : 'send_refuse'));
    return ch.uuid;
  }

  subscribe(uuid: string, listener: (event: ChannelEvent) => void): () => void {
    this.listeners.set(uuid, listener);
    return () => this.listeners.delete(uuid);
  }

  async execute(uuid: string, appUuid: string, command: SwitchCommand): Promise<CommandAck> {
    const ch = this.channels.get(uuid);
    if (!ch || ch.hungUp) return { ok: false, reason: `invalid session id [${uuid}]`, gone: true };
    if (command.app === 'hangup') {
      // call-command: hangup acts at once, whatever application is running.
      this.end(ch, command.cause, ch.answered ? 'send_bye' : 'send_refuse');
      return { ok: true };
    }
    ch.queue.push({ appUuid, command });
    if (!ch.running) this.runNext(ch);
    return { ok: true };
  }

  // --- events and time -------------------------------------------------------------------

  /** Events are delivered through the clock, so they arrive in order and never re-entrantly. */
  private emit(ch: SimChannel, name: ChannelEventName, extra: Record<string, string> = {}): void {
    // FreeSWITCH repeats the caller profile on every event; the simulator sends it once, at creation.
    const profile =
      name === 'CHANNEL_CREATE'
        ? {
            'Caller-Caller-ID-Number': ch.callerNumber,
            'Caller-Caller-ID-Name': ch.callerName,
            'Caller-Destination-Number': ch.destination,
          }
        : undefined;
    const headers: Record<string, string> = {
      'Event-Name': name,
      'Unique-ID': ch.uuid,
      'Answer-State': ch.hungUp ? 'hangup' : ch.answered ? 'answered' : 'ringing',
      ...profile,
      ...extra,
    };
    const event: ChannelEvent = { name, uuid: ch.uuid, headers };
    this.clock.setTimeout(() => this.listeners.get(ch.uuid)?.(event), 0);
  }

  private after(ch: SimChannel, ms: number, fn: () => void): number {
    const id = this.clock.setTimeout(() => {
      ch.timers.delete(id);
      fn();
    }, ms);
    ch.timers.add(id);
    return id;
  }

  private cancel(ch: SimChannel, id: number | undefined): void {
    if (id === undefined) return;
    this.clock.clearTimeout(id);
    ch.timers.delete(id);
  }

  // --- the caller ------------------------------------------------------------------------

  private press(ch: SimChannel, digits: string): void {
    [...digits].forEach((digit, i) => {
      this.after(ch, i * INTERDIGIT_MS, () => {
        if (ch.hungUp) return;
        this.emit(ch, 'DTMF', { 'DTMF-Digit': digit, 'DTMF-Duration': '2000', 'DTMF-Source': 'RTP' });
        ch.running?.onDtmf(digit);
      });
    });
  }

  private callerHangsUp(ch: SimChannel): void {
    if (ch.answered) this.end(ch, 'NORMAL_CLEARING', 'recv_bye');
    else this.end(ch, 'ORIGINATOR_CANCEL', 'recv_cancel');
  }

  private speechFor(ch: SimChannel): number {
    const s = this.scenario.caller.speaks_s;
    const list = Array.isArray(s) ? s : [s];
    const v = list[Math.min(ch.recordings, list.length - 1)] ?? 0;
    ch.recordings += 1;
    return v * 1000;
  }

  private promptMs(file: string): number {
    const p = this.scenario.prompts;
    return (own(p.durations_s, file) ?? own(p.durations_s, promptName(file)) ?? p.default_s) * 1000;
  }

  // --- applications ----------------------------------------------------------------------

  private runNext(ch: SimChannel): void {
    const item = ch.queue.shift();
    if (!item || ch.hungUp) return;
    const { appUuid, command } = item;
    this.emit(ch, 'CHANNEL_EXECUTE', { Application: command.app, 'Application-UUID': appUuid });
    const finish = (response = '_none_', vars: Record<string, string> = {}): void => {
      this.emit(ch, 'CHANNEL_EXECUTE_COMPLETE', {
        Application: command.app,
        'Application-UUID': appUuid,
        'Application-Response': response,
        ...vars,
      });
      if (ch.running?.appUuid === appUuid) ch.running = null;
      this.runNext(ch);
    };
    const idle = { appUuid, app: command.app, onDtmf() {}, onHangup: () => finish() };
    ch.running = idle;
    switch (command.app) {
      case 'answer':
        this.answer(ch);
        return finish();
      case 'set':
        return finish();
      case 'sleep': {
        // As the recorded call shows (extension 1002): a key cuts FreeSWITCH's sleep short.
        const t = this.after(ch, command.ms, () => finish());
        const stop = (): void => (this.cancel(ch, t), finish());
        ch.running = { ...idle, onDtmf: stop, onHangup: stop };
        return;
      }
      case 'hangup':
        return; // never queued: handled in execute()
      case 'playback':
        return this.playFiles(ch, appUuid, 'playback', [command.file], command.terminators, 'FILE PLAYED', finish);
      case 'say':
        return this.playFiles(ch, appUuid, 'say', spelledFiles(command.text), command.terminators, '_none_', finish);
      case 'record':
        return this.record(ch, appUuid, command, finish);
      case 'bridge':
        return this.bridge(ch, appUuid, command, finish);
    }
  }

  private answer(ch: SimChannel): void {
    if (ch.answered) return;
    ch.answered = true;
    ch.answeredAt = this.clock.now();
    this.emit(ch, 'CHANNEL_ANSWER');
  }

  /**
   * Files played one after another in one application, each with its own PLAYBACK_START/STOP: a
   * playback is one file; FreeSWITCH's say as KAZOO asks for it (`en name_spelled pronounced
   * <text>`) is mod_say_en's file per character. A terminator digit ends the file playing and
   * the rest; `response` is what the application reports when it completes.
   */
  private playFiles(
    ch: SimChannel,
    appUuid: string,
    app: string,
    files: readonly string[],
    terminators: string | undefined,
    response: string,
    finish: (r?: string, v?: Record<string, string>) => void,
  ): void {
    let next = 0;
    let timer: number | undefined;
    const stopFile = (): void => {
      this.cancel(ch, timer);
      this.emit(ch, 'PLAYBACK_STOP', { 'Playback-File-Path': files[next - 1]!, 'Playback-Status': 'done' });
    };
    const playNext = (): void => {
      if (next >= files.length) return finish(response);
      const file = files[next++]!;
      this.startFile(ch, file);
      timer = this.after(ch, this.promptMs(file), () => {
        stopFile();
        playNext();
      });
    };
    ch.running = interruptible(appUuid, app, terminators, (vars) => {
      if (next > 0) stopFile();
      finish(response, vars);
    });
    playNext();
  }

  /** A file starts playing: PLAYBACK_START, and the caller's keys scripted for that prompt. */
  private startFile(ch: SimChannel, file: string): void {
    this.emit(ch, 'PLAYBACK_START', { 'Playback-File-Path': file });
    const i = ch.promptDigits.findIndex((d) => matchesPrompt(file, d.on_prompt!));
    if (i >= 0) {
      const [d] = ch.promptDigits.splice(i, 1);
      this.after(ch, d!.after_s * 1000, () => this.press(ch, d!.digits));
    }
  }

  private record(
    ch: SimChannel,
    appUuid: string,
    cmd: Extract<SwitchCommand, { app: 'record' }>,
    finish: (r?: string, v?: Record<string, string>) => void,
  ): void {
    const startedAt = this.clock.now();
    this.emit(ch, 'RECORD_START', { 'Record-File-Path': cmd.path });
    // FreeSWITCH stops after `silenceHits` seconds of silence following the speech, or at the limit.
    let endMs = this.speechFor(ch) + (cmd.silenceHits ?? 0) * 1000;
    if (cmd.limitSeconds > 0) endMs = Math.min(endMs, cmd.limitSeconds * 1000);
    const done = (vars: Record<string, string> = {}): void => {
      this.cancel(ch, timer);
      const ms = String(this.clock.now() - startedAt);
      this.writeRecording(cmd.path, Number(ms));
      this.emit(ch, 'RECORD_STOP', { 'Record-File-Path': cmd.path, variable_record_ms: ms });
      finish('_none_', { variable_record_ms: ms, ...vars });
    };
    const timer = this.after(ch, endMs, () => done());
    ch.running = interruptible(appUuid, 'record', cmd.terminators, done);
  }

  /** A file the recording cannot be written to fails like a full disk: logged by the switch, not thrown into the call. */
  private writeRecording(path: string, ms: number): void {
    try {
      this.wav.write(path, ms);
    } catch {
      // FreeSWITCH still reports RECORD_STOP; the engine finds no file when it tries to keep it.
    }
  }

  private bridge(
    ch: SimChannel,
    appUuid: string,
    cmd: Extract<SwitchCommand, { app: 'bridge' }>,
    finish: (r?: string, v?: Record<string, string>) => void,
  ): void {
    const devices = this.scenario.devices;
    // No SIP here: custom headers are only in the command's args (and so in the step log).
    const plan = planBridge(cmd.endpoints, cmd.strategy, cmd.timeoutSeconds, (id) => own(devices, id) ?? NO_ANSWER, {
      failOnSingleReject: cmd.failOnSingleReject === true,
    });
    const timers: number[] = [];
    const firstRing = plan.legs.filter((l) => l.rings).reduce((m, l) => Math.min(m, l.startMs), Infinity);
    if (firstRing < plan.result.atMs || (plan.result.kind === 'answer' && firstRing <= plan.result.atMs)) {
      timers.push(this.after(ch, firstRing, () => !ch.answered && this.emit(ch, 'CHANNEL_PROGRESS')));
    }
    let legUuid: string | null = null;
    const success = (): Record<string, string> => ({
      variable_originate_disposition: 'SUCCESS',
      variable_DIALSTATUS: 'SUCCESS',
      variable_last_bridge_to: legUuid ?? '',
      variable_last_bridge_hangup_cause: 'NORMAL_CLEARING',
      variable_bridge_hangup_cause: 'NORMAL_CLEARING',
    });
    const failure = (cause: HangupCause): Record<string, string> => {
      const sip = SIP_CODE_FOR_CAUSE[cause];
      return {
        variable_originate_disposition: cause,
        variable_DIALSTATUS: dialStatus(cause),
        variable_originate_failed_cause: cause,
        variable_last_bridge_hangup_cause: cause,
        ...(sip ? { variable_last_bridge_proto_specific_hangup_cause: `sip:${sip}` } : {}),
      };
    };
    const result = plan.result;
    if (result.kind === 'fail') {
      timers.push(this.after(ch, result.atMs, () => finish('_none_', failure(result.cause))));
    } else {
      timers.push(
        this.after(ch, result.atMs, () => {
          legUuid = this.ids.uuid();
          this.answer(ch);
          ch.bridgedTo = legUuid;
          this.emit(ch, 'CHANNEL_BRIDGE', {
            'Bridge-A-Unique-ID': ch.uuid,
            'Bridge-B-Unique-ID': legUuid,
            'Other-Leg-Unique-ID': legUuid,
          });
          const hangupAfter = own(devices, result.leg.endpoint.deviceId)?.hangup_after_s ?? this.scenario.callee.hangup_after_s;
          if (hangupAfter !== undefined) {
            timers.push(
              this.after(ch, hangupAfter * 1000, () => {
                this.emit(ch, 'CHANNEL_UNBRIDGE', { 'Other-Leg-Unique-ID': legUuid! });
                ch.bridgedTo = null;
                finish('_none_', success());
              }),
            );
          }
        }),
      );
    }
    ch.running = {
      appUuid,
      app: 'bridge',
      onDtmf() {},
      onHangup: () => {
        for (const t of timers) this.cancel(ch, t);
        finish('_none_', legUuid ? success() : failure('ORIGINATOR_CANCEL'));
      },
    };
  }

  // --- the end of a channel --------------------------------------------------------------

  private end(ch: SimChannel, cause: HangupCause, disposition: string): void {
    if (ch.hungUp) return;
    ch.hungUp = true;
    for (const t of ch.timers) this.clock.clearTimeout(t);
    ch.timers.clear();
    const sip = SIP_CODE_FOR_CAUSE[cause];
    const hangup = {
      'Hangup-Cause': cause,
      variable_hangup_cause: cause,
      variable_sip_hangup_disposition: disposition,
    };
    this.emit(ch, 'CHANNEL_HANGUP', hangup);
    if (ch.bridgedTo) {
      this.emit(ch, 'CHANNEL_UNBRIDGE', { 'Other-Leg-Unique-ID': ch.bridgedTo });
      ch.bridgedTo = null;
    }
    const running = ch.running;
    ch.running = null;
    ch.queue.length = 0;
    running?.onHangup();
    const now = this.clock.now();
    this.emit(ch, 'CHANNEL_HANGUP_COMPLETE', {
      ...hangup,
      ...(sip ? { variable_proto_specific_hangup_cause: `sip:${sip}` } : {}),
      variable_duration: String(Math.floor((now - ch.createdAt) / 1000)),
      variable_billsec: String(ch.answeredAt === null ? 0 : Math.floor((now - ch.answeredAt) / 1000)),
    });
    this.emit(ch, 'CHANNEL_DESTROY');
    this.clock.setTimeout(() => this.channels.delete(ch.uuid), 0);
  }
}

/**
 * A scenario map's own entry: names come from documents and files, and `constructor` or
 * `toString` must not find Object.prototype's (a greeting named constructor.wav got a function
 * as its duration, NaN ms, and stopped virtual time).
 */
function own<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
