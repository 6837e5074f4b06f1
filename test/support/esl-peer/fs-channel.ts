/**
 * What FreeSWITCH knows about one channel and puts in every event about it: states, times, the
 * caller profile, the bridged leg's profile and the channel variables. The call's behaviour is
 * the simulator's; this is only its FreeSWITCH face.
 */

/** switch_channel_state_t, in enum order: Channel-State-Number is the index. */
export const CHANNEL_STATES = [
  'CS_NEW',
  'CS_INIT',
  'CS_ROUTING',
  'CS_SOFT_EXECUTE',
  'CS_EXECUTE',
  'CS_EXCHANGE_MEDIA',
  'CS_PARK',
  'CS_CONSUME_MEDIA',
  'CS_HIBERNATE',
  'CS_RESET',
  'CS_HANGUP',
  'CS_REPORTING',
  'CS_DESTROY',
  'CS_NONE',
] as const;
export type ChannelStateName = (typeof CHANNEL_STATES)[number];

/** switch_channel_callstate_t, in enum order (Channel-Call-State-Number). */
export const CALL_STATES = ['DOWN', 'DIALING', 'RINGING', 'EARLY', 'ACTIVE', 'HELD', 'RING_WAIT', 'HANGUP', 'UNHELD'] as const;
export type CallStateName = (typeof CALL_STATES)[number];

export type AnswerState = 'ringing' | 'early' | 'answered' | 'hangup';

/** The profile of the leg a bridge connected us to (Other-Leg-* headers). */
export interface OtherLeg {
  readonly uuid: string;
  readonly channelName: string;
  readonly destination: string;
  readonly createdUs: number;
  readonly answeredUs: number;
}

export interface ChannelIdentity {
  readonly uuid: string;
  readonly callerNumber: string;
  readonly callerName: string;
  readonly destination: string;
  /** The SIP domain the call came in on (the account realm). */
  readonly realm: string;
  /** The sofia profile name in the channel name (`sofia/<profile>/<caller>@<realm>`). */
  readonly profile: string;
  readonly createdUs: number;
  readonly sessionId: number;
}

export class FsChannel {
  readonly uuid: string;
  readonly name: string;
  /**
   * Channel-State is the running state; Channel-State-Number is the state the channel is going
   * to, which runs ahead (CHANNEL_CREATE shows CS_INIT with 2, a hung-up channel CS_EXECUTE with 10).
   */
  running: ChannelStateName = 'CS_NEW';
  state: ChannelStateName = 'CS_NEW';
  callState: CallStateName = 'DOWN';
  answerState: AnswerState = 'ringing';
  hangupCause: string | null = null;
  answeredUs = 0;
  progressUs = 0;
  hangupUs = 0;
  bridgedUs = 0;
  other: OtherLeg | null = null;
  /** FreeSWITCH keeps variables in insertion order and moves a variable to the end when it is set again. */
  private readonly variables = new Map<string, string>();

  constructor(readonly id: ChannelIdentity) {
    this.uuid = id.uuid;
    this.name = `sofia/${id.profile}/${id.callerNumber}@${id.realm}`;
  }

  get vars(): ReadonlyMap<string, string> {
    return this.variables;
  }

  setVar(name: string, value: string): void {
    this.variables.delete(name);
    this.variables.set(name, value);
  }

  unsetVar(name: string): void {
    this.variables.delete(name);
  }

  get stateNumber(): number {
    return CHANNEL_STATES.indexOf(this.state);
  }

  get isDown(): boolean {
    return this.hangupCause !== null;
  }
}
