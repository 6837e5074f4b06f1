import type { AccountView } from '../../../engine/call/account-view.ts';
import type { IdProvider } from '../../../engine/providers.ts';
import type { ChannelEvent, HangupCause } from '../../../engine/switch.ts';
import type { VirtualClock } from '../../../engine/virtual-clock.ts';
import type { Scenario } from '../../../integrations/simulator/scenario-schema.ts';
import type { SimulatedSwitch } from '../../../integrations/simulator/simulated-switch.ts';
import { planApp, type AppPlan } from './apps.ts';
import { answeringLeg, bridgeOutcome } from './bridge-outcome.ts';
import { cdrVariables } from './cdr.ts';
import { channelEventHeaders } from './event-headers.ts';
import { CALL_STATES, type CallStateName, type ChannelStateName, type FsChannel } from './fs-channel.ts';
import type { Header } from './wire-format.ts';

/**
 * One channel's FreeSWITCH side: runs the applications `sendmsg` queued, one at a time, on the
 * simulator (SimulatedSwitch), and turns the simulator's events into FreeSWITCH's full event
 * sequence: CALLSTATE changes, PARK/UNPARK around the socket application, the hangup
 * sequence, CHANNEL_DESTROY only once the controlling socket is gone.
 */

export interface PendingApp {
  readonly appUuid: string;
  readonly name: string;
  readonly arg: string;
}

export interface RunnerHost {
  readonly clock: VirtualClock;
  readonly ids: IdProvider;
  readonly model: SimulatedSwitch;
  readonly scenario: Scenario;
  readonly account: AccountView | undefined;
  /** Fires a switch-wide event: the host stamps the common headers and delivers it. */
  fire(name: string, rest: readonly Header[], body?: string): void;
  /** The channel is destroyed: it leaves `show channels` and uuid_exists. */
  destroyed(uuid: string): void;
}

/** The outbound socket controlling this channel, as far as the runner needs it. */
export interface ControlLink {
  readonly async: boolean;
  readonly open: boolean;
  /** FreeSWITCH is about to send the post-hangup events (UNPARK, STATE, HANGUP_COMPLETE). */
  teardownStarting(): void;
  /** CHANNEL_HANGUP_COMPLETE went out. */
  teardownDone(): void;
  appCompleted(appUuid: string): void;
}

interface Running {
  readonly app: PendingApp;
  readonly plan: AppPlan;
  readonly startedAt: number;
}

const PLAYBACK_FILE_TYPES = ['tone_stream', 'local_stream'];
/** Virtual time from `connect` to CHANNEL_PARK when no application starts first. */
const PARK_DELAY_MS = 10;

export class ChannelRunner {
  private readonly queue: PendingApp[] = [];
  private running: Running | null = null;
  /** An application whose EXECUTE_COMPLETE FreeSWITCH sends right after CHANNEL_HANGUP (hangup, a failed bridge). */
  private completeAfterHangup: { app: PendingApp; response: string } | null = null;
  private startScheduled = false;
  private control: ControlLink | null = null;
  private socketAppDone = false;
  /** The controlling socket closed while the call was up. */
  private socketGone = false;
  private parked = false;
  private modelDestroyed = false;
  private destroyedFired = false;
  private lastApp: PendingApp | null = null;
  private readonly socketApp: PendingApp;

  constructor(
    readonly ch: FsChannel,
    private readonly host: RunnerHost,
    socketArg: string,
  ) {
    this.socketApp = { appUuid: host.ids.uuid(), name: 'socket', arg: socketArg };
    host.model.subscribe(ch.uuid, (e) => this.onModel(e));
  }

  // --- from the dialplan to the socket --------------------------------------------------------

  /** The call arrived and the dialplan ran `socket`: CHANNEL_CREATE ... CHANNEL_EXECUTE(socket). */
  start(): void {
    const ch = this.ch;
    this.setStates('CS_INIT', 'CS_INIT');
    this.fire('CHANNEL_STATE');
    ch.state = 'CS_ROUTING';
    this.fire('CHANNEL_CREATE');
    ch.running = 'CS_ROUTING';
    this.setCallState('RINGING');
    this.fire('CHANNEL_STATE');
    this.setStates('CS_EXECUTE', 'CS_EXECUTE');
    this.fire('CHANNEL_STATE');
    this.fireExecute(this.socketApp);
  }

  /** The outbound socket FreeSWITCH opened for this call: while it is open the session is not destroyed. */
  bind(control: ControlLink): void {
    this.control = control;
  }

  /**
   * The client sent `connect`: an async socket parks the channel. The park runs on the session's
   * own thread, so it races the client's first commands (the recordings show it 2-4 ms after
   * `connect`, after `myevents`); it always comes before the first application, which only the
   * park loop can run.
   */
  connected(): void {
    if (this.control?.async) this.host.clock.setTimeout(() => this.park(), PARK_DELAY_MS);
  }

  private park(): void {
    if (this.parked || this.ch.isDown || !this.control?.async) return;
    this.parked = true;
    this.fire('CHANNEL_PARK');
  }

  /**
   * The controlling socket closed. With the call up, FreeSWITCH lets the running application
   * (and those already queued) finish; then the park ends, the socket application returns and,
   * with no `resume`, the dialplan is over: the call is hung up.
   */
  socketClosed(): void {
    if (this.ch.isDown) {
      if (!this.control?.async) this.endSocketApp();
      this.maybeDestroy();
      return;
    }
    this.socketGone = true;
    this.scheduleNext();
  }

  // --- sendmsg ----------------------------------------------------------------------------------

  /** A queued `execute`. FreeSWITCH accepts it even on a hung-up channel, and then never runs it (false). */
  queueApp(app: PendingApp): boolean {
    if (this.ch.isDown) return false;
    this.queue.push(app);
    this.scheduleNext();
    return true;
  }

  /** `call-command: hangup` acts at once, whatever is running. */
  hangup(cause: string): void {
    if (this.ch.isDown) return;
    this.host.model.execute(this.ch.uuid, this.host.ids.uuid(), { app: 'hangup', cause: cause as HangupCause }).catch(() => {});
  }

  getVar(name: string): string | undefined {
    return this.ch.vars.get(name);
  }

  private scheduleNext(): void {
    if (this.startScheduled || this.running) return;
    this.startScheduled = true;
    this.host.clock.setTimeout(() => {
      this.startScheduled = false;
      this.startNext();
    }, 0);
  }

  private startNext(): void {
    if (this.running || this.ch.isDown) return;
    const app = this.queue.shift();
    if (!app) {
      if (this.socketGone) {
        this.endSocketApp();
        this.modelHangup('NORMAL_CLEARING');
      }
      return;
    }
    this.park();
    const plan = planApp(app.name, app.arg, this.ch.vars, this.host.account);
    this.lastApp = app;
    switch (plan.kind) {
      case 'invalid':
        this.lastApp = null;
        this.modelHangup('DESTINATION_OUT_OF_ORDER');
        return;
      case 'instant':
        this.fireExecute(app);
        if (plan.setVar) {
          const [n, v] = plan.setVar;
          if (v === null) this.ch.unsetVar(n);
          else this.ch.setVar(n, v);
        }
        this.fireComplete(app, '_none_', []);
        this.scheduleNext();
        return;
      case 'hangup':
        this.fireExecute(app);
        this.running = { app, plan, startedAt: this.host.clock.now() };
        this.completeAfterHangup = { app, response: '_none_' };
        this.modelHangup(plan.cause);
        return;
      case 'model':
        this.running = { app, plan, startedAt: this.host.clock.now() };
        this.host.model.execute(this.ch.uuid, app.appUuid, plan.command).catch(() => {});
    }
  }

  private modelHangup(cause: string): void {
    this.host.model.execute(this.ch.uuid, this.host.ids.uuid(), { app: 'hangup', cause: cause as HangupCause }).catch(() => {});
  }

  // --- the simulator's events -------------------------------------------------------------------

  private onModel(e: ChannelEvent): void {
    const h = e.headers;
    switch (e.name) {
      case 'CHANNEL_EXECUTE':
        return this.onExecute(h);
      case 'CHANNEL_EXECUTE_COMPLETE':
        return this.onExecuteComplete(h);
      case 'CHANNEL_ANSWER':
        return this.onAnswer();
      case 'CHANNEL_PROGRESS':
        if (this.ch.answerState !== 'answered') {
          this.ch.progressUs = this.nowUs();
          this.fire('CHANNEL_PROGRESS');
        }
        return;
      case 'CHANNEL_BRIDGE':
        return this.onBridge(h['Other-Leg-Unique-ID'] ?? '');
      case 'CHANNEL_UNBRIDGE':
        return this.onUnbridge();
      case 'DTMF':
        return this.fire('DTMF', [
          ['DTMF-Digit', h['DTMF-Digit'] ?? ''],
          ['DTMF-Duration', h['DTMF-Duration'] ?? '2000'],
          ['DTMF-Source', h['DTMF-Source'] ?? 'RTP'],
        ]);
      case 'PLAYBACK_START':
      case 'PLAYBACK_STOP':
        return this.onPlayback(e.name, h);
      case 'RECORD_START':
        return this.fire('RECORD_START', [['Record-File-Path', h['Record-File-Path'] ?? '']]);
      case 'RECORD_STOP':
        this.setRecordVars(h.variable_record_ms);
        return this.fire('RECORD_STOP', [['Record-File-Path', h['Record-File-Path'] ?? '']]);
      case 'CHANNEL_HANGUP':
        return this.onHangup(h);
      case 'CHANNEL_HANGUP_COMPLETE':
        return this.onHangupComplete(h);
      case 'CHANNEL_DESTROY':
        this.modelDestroyed = true;
        return this.maybeDestroy();
      default:
        return; // CHANNEL_CREATE: start() reported the call's arrival already.
    }
  }

  private onExecute(h: Readonly<Record<string, string>>): void {
    const r = this.running;
    if (!r || r.app.appUuid !== h['Application-UUID']) return;
    this.fireExecute(r.app);
    // The caller waits while the switch originates the legs.
    if (r.plan.kind === 'model' && r.plan.command.app === 'bridge') this.setCallState('RING_WAIT');
  }

  private onExecuteComplete(h: Readonly<Record<string, string>>): void {
    const r = this.running;
    if (!r || r.app.appUuid !== h['Application-UUID'] || r.plan.kind !== 'model') return;
    const command = r.plan.command;
    const vars: [string, string][] = Object.entries(h)
      .filter(([k]) => k.startsWith('variable_'))
      .map(([k, v]) => [k.slice('variable_'.length), v]);
    if (command.app === 'set') vars.push([command.name, command.value]);
    if (command.app === 'playback') this.setPlaybackVars(r.startedAt);
    if (command.app === 'record') this.setRecordVars(h.variable_record_ms);
    let hangupCause: string | null = null;
    if (command.app === 'bridge' && r.plan.bridge) {
      // The caller's call state comes back from RING_WAIT before the bridge reports.
      if (this.ch.callState === 'RING_WAIT') this.setCallState(this.ch.answerState === 'answered' ? 'ACTIVE' : 'RINGING');
      hangupCause = bridgeOutcome(r.plan.bridge, command, vars, this.ch.vars);
    }
    for (const [n, v] of vars) {
      if (command.app === 'set' && n === command.name && v === '') this.ch.unsetVar(n);
      else this.ch.setVar(n, v);
    }
    const response = h['Application-Response'] ?? '_none_';
    if (hangupCause && !this.ch.isDown) {
      this.completeAfterHangup = { app: r.app, response };
      this.modelHangup(hangupCause);
      return;
    }
    this.running = null;
    this.fireComplete(r.app, response, []);
    this.scheduleNext();
  }

  private onAnswer(): void {
    const ch = this.ch;
    if (ch.answerState === 'answered') return;
    ch.answerState = 'answered';
    ch.answeredUs = this.nowUs();
    this.fire('CHANNEL_ANSWER');
    ch.setVar('endpoint_disposition', 'ANSWER');
    this.setCallState('ACTIVE');
  }

  private onBridge(otherUuid: string): void {
    const r = this.running;
    const command = r?.plan.kind === 'model' ? r.plan.command : undefined;
    const winner = command?.app === 'bridge' ? answeringLeg(command, this.host.scenario) : undefined;
    const now = this.nowUs();
    this.ch.other = {
      uuid: otherUuid,
      channelName: winner ? `sofia/${this.ch.id.profile}/${winner.username}@${winner.realm}` : `sofia/${this.ch.id.profile}/unknown`,
      destination: winner?.username ?? '',
      createdUs: r ? Math.round(r.startedAt * 1000) : now,
      answeredUs: now,
    };
    this.ch.bridgedUs = now;
    if (this.ch.callState === 'RING_WAIT') this.setCallState('ACTIVE');
    this.ch.setVar('originate_disposition', 'SUCCESS');
    this.ch.setVar('DIALSTATUS', 'SUCCESS');
    this.ch.setVar('signal_bond', otherUuid);
    this.fire('CHANNEL_BRIDGE', [], this.bridgeIds());
  }

  private onUnbridge(): void {
    const o = this.ch.other;
    if (o) {
      this.ch.setVar('last_bridge_to', o.uuid);
      this.ch.setVar('bridge_channel', o.channelName);
      this.ch.setVar('bridge_uuid', o.uuid);
    }
    this.fire('CHANNEL_UNBRIDGE', [], this.bridgeIds());
  }

  private bridgeIds(): Header[] {
    return [
      ['Bridge-A-Unique-ID', this.ch.uuid],
      ['Bridge-B-Unique-ID', this.ch.other?.uuid ?? ''],
    ];
  }

  private onPlayback(name: 'PLAYBACK_START' | 'PLAYBACK_STOP', h: Readonly<Record<string, string>>): void {
    const file = h['Playback-File-Path'] ?? '';
    const type = PLAYBACK_FILE_TYPES.find((t) => file.startsWith(`${t}:`));
    const post: Header[] = [...(type ? [['Playback-File-Type', type] as const] : []), ['Playback-File-Path', file]];
    if (name === 'PLAYBACK_STOP') {
      if (this.running) this.setPlaybackVars(this.running.startedAt);
      post.push(['Playback-Status', h['Playback-Status'] ?? 'done']);
    }
    this.fire(name, post);
  }

  private setPlaybackVars(startedAt: number): void {
    const ms = this.host.clock.now() - startedAt;
    this.ch.setVar('playback_last_offset_pos', String(ms * 8));
    this.ch.setVar('playback_seconds', String(Math.floor(ms / 1000)));
    this.ch.setVar('playback_ms', String(ms));
    this.ch.setVar('playback_samples', String(ms * 8));
  }

  private setRecordVars(msText: string | undefined): void {
    if (msText === undefined) return;
    const ms = Number(msText);
    this.ch.setVar('record_seconds', String(Math.floor(ms / 1000)));
    this.ch.setVar('record_ms', msText);
    this.ch.setVar('record_samples', String(ms * 8));
  }

  // --- the end of the call ----------------------------------------------------------------------

  private onHangup(h: Readonly<Record<string, string>>): void {
    const ch = this.ch;
    ch.hangupCause = h['Hangup-Cause'] ?? 'NORMAL_CLEARING';
    ch.state = 'CS_HANGUP';
    ch.answerState = 'hangup';
    this.queue.length = 0;
    this.fire('CHANNEL_HANGUP');
    const pending = this.completeAfterHangup;
    if (pending) {
      this.completeAfterHangup = null;
      this.running = null;
      this.fireComplete(pending.app, pending.response, []);
    }
  }

  private onHangupComplete(h: Readonly<Record<string, string>>): void {
    const ch = this.ch;
    this.running = null;
    this.control?.teardownStarting();
    if (this.control?.async && !this.socketAppDone) this.endSocketApp();
    this.setStates('CS_HANGUP', 'CS_HANGUP');
    this.fire('CHANNEL_STATE');
    this.setCallState('HANGUP');
    ch.hangupUs = this.nowUs();
    this.setStates('CS_REPORTING', 'CS_REPORTING');
    this.fire('CHANNEL_STATE');
    for (const [n, v] of cdrVariables(ch, this.lastApp, h)) ch.setVar(n, v);
    this.fire('CHANNEL_HANGUP_COMPLETE', [], [['Hangup-Cause', ch.hangupCause ?? 'NORMAL_CLEARING']]);
    this.control?.teardownDone();
  }

  /** The socket application returns: CHANNEL_UNPARK (if it had parked the channel) and its EXECUTE_COMPLETE. */
  private endSocketApp(): void {
    if (this.socketAppDone) return;
    this.socketAppDone = true;
    if (this.parked) this.fire('CHANNEL_UNPARK');
    this.fireComplete(this.socketApp, '_none_', []);
  }

  /** CHANNEL_DESTROY only once the simulator is done and no socket holds the session (outbound sockets never see it). */
  private maybeDestroy(): void {
    if (!this.modelDestroyed || this.destroyedFired || this.control?.open) return;
    this.destroyedFired = true;
    this.ch.state = 'CS_DESTROY';
    this.fire('CHANNEL_DESTROY');
    this.ch.running = 'CS_DESTROY';
    this.fire('CHANNEL_STATE');
    this.host.destroyed(this.ch.uuid);
  }

  // --- FreeSWITCH's application bookkeeping and event plumbing --------------------------------

  private fireExecute(app: PendingApp): void {
    const ch = this.ch;
    ch.setVar('current_loop', '1');
    ch.setVar('total_loops', '1');
    ch.unsetVar('current_application_response');
    ch.setVar('current_application', app.name);
    if (app.arg !== '') ch.setVar('current_application_data', app.arg);
    else ch.unsetVar('current_application_data');
    // CHANNEL_EXECUTE goes out before the application runs (switch_core_session_exec), so it still
    // carries the last terminator; mod_dptools' playback, say and record clear it as they start.
    this.fire('CHANNEL_EXECUTE', this.appHeaders(app));
    if (app.name === 'playback' || app.name === 'say' || app.name === 'record') ch.unsetVar('playback_terminator_used');
  }

  private fireComplete(app: PendingApp, response: string, extra: readonly Header[]): void {
    const ch = this.ch;
    if (app.arg !== '') {
      ch.setVar('current_application_data', app.arg);
      ch.setVar('current_application', app.name);
    }
    if (response !== '_none_') ch.setVar('current_application_response', response);
    const [name, ...rest] = this.appHeaders(app);
    const uuid = rest.pop()!;
    this.fire('CHANNEL_EXECUTE_COMPLETE', [name!, ...rest, ['Application-Response', response], uuid, ...extra]);
    this.control?.appCompleted(app.appUuid);
  }

  /** Application, Application-Data (only when there is an argument), Application-UUID. */
  private appHeaders(app: PendingApp): Header[] {
    return [['Application', app.name], ...(app.arg === '' ? [] : [['Application-Data', app.arg] as const]), ['Application-UUID', app.appUuid]];
  }

  private setStates(running: ChannelStateName, state: ChannelStateName): void {
    this.ch.running = running;
    this.ch.state = state;
  }

  /** Every call state change fires CHANNEL_CALLSTATE (switch_channel_perform_set_callstate). */
  private setCallState(next: CallStateName): void {
    const before = this.ch.callState;
    if (before === next) return;
    this.ch.callState = next;
    this.fire('CHANNEL_CALLSTATE', [], [
      ['Original-Channel-Call-State', before],
      ['Channel-Call-State-Number', String(CALL_STATES.indexOf(next))],
    ]);
  }

  private fire(name: string, post: readonly Header[] = [], pre: readonly Header[] = []): void {
    this.host.fire(name, channelEventHeaders(name, this.ch, post, pre));
  }

  private nowUs(): number {
    return Math.round(this.host.clock.now() * 1000);
  }
}
