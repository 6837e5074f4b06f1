import type { FsChannel } from './fs-channel.ts';
import type { Header } from './wire-format.ts';

/**
 * The header lists of FreeSWITCH events, in FreeSWITCH's order (switch_event_prep_for_delivery,
 * switch_channel_event_set_data, switch_caller_profile_event_set_data), as recorded in
 * ../../../../shared/fixtures/freeswitch/.
 */

export interface HostIdentity {
  readonly coreUuid: string;
  readonly hostname: string;
  readonly switchname: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

/** The switch the fixtures were recorded on. */
export const RECORDED_HOST: HostIdentity = {
  coreUuid: '8b0725ad-623b-4028-a9df-1d6ed941ca74',
  hostname: 'vm',
  switchname: 'vm',
  ipv4: '192.0.2.2',
  ipv6: 'fd00::2',
};

/** Event-Calling-File/Function/Line-Number as FreeSWITCH 1.11.1 reports them for each event. */
const CALLING: Readonly<Record<string, readonly [string, string, number]>> = {
  CHANNEL_DATA: ['mod_event_socket.c', 'parse_command', 2018],
  CHANNEL_CREATE: ['switch_core_state_machine.c', 'switch_core_session_run', 626],
  CHANNEL_STATE: ['switch_channel.c', 'switch_channel_perform_set_running_state', 2409],
  CHANNEL_CALLSTATE: ['switch_channel.c', 'switch_channel_perform_set_callstate', 302],
  CHANNEL_PARK: ['switch_ivr.c', 'switch_ivr_park', 1002],
  CHANNEL_UNPARK: ['switch_ivr.c', 'switch_ivr_park', 1213],
  CHANNEL_EXECUTE: ['switch_core_session.c', 'switch_core_session_exec', 2949],
  CHANNEL_EXECUTE_COMPLETE: ['switch_core_session.c', 'switch_core_session_exec', 2972],
  CHANNEL_ANSWER: ['switch_channel.c', 'switch_channel_perform_mark_answered', 3848],
  CHANNEL_PROGRESS: ['switch_channel.c', 'switch_channel_perform_mark_ring_ready_value', 3507],
  CHANNEL_HANGUP: ['switch_channel.c', 'switch_channel_perform_hangup', 3447],
  CHANNEL_HANGUP_COMPLETE: ['switch_core_state_machine.c', 'switch_core_session_reporting_state', 943],
  CHANNEL_DESTROY: ['switch_core_session.c', 'switch_core_session_perform_destroy', 1588],
  CHANNEL_BRIDGE: ['switch_ivr_bridge.c', 'switch_ivr_multi_threaded_bridge', 1689],
  CHANNEL_UNBRIDGE: ['switch_ivr_bridge.c', 'switch_ivr_multi_threaded_bridge', 1879],
  DTMF: ['switch_channel.c', 'switch_channel_dequeue_dtmf', 678],
  PLAYBACK_START: ['switch_ivr_play_say.c', 'switch_ivr_play_file', 1649],
  PLAYBACK_STOP: ['switch_ivr_play_say.c', 'switch_ivr_play_file', 2023],
  RECORD_START: ['switch_ivr_play_say.c', 'switch_ivr_record_file_event', 770],
  RECORD_STOP: ['switch_ivr_play_say.c', 'switch_ivr_record_file_event', 1033],
  BACKGROUND_JOB: ['mod_event_socket.c', 'api_exec', 1569],
  HEARTBEAT: ['switch_core.c', 'send_heartbeat', 95],
};

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The emulated host runs on UTC (as the recording host did), so Local and GMT show the same time. */
export function eventDates(nowMs: number): { local: string; gmt: string; timestampUs: string } {
  const d = new Date(nowMs);
  const local = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return { local, gmt: d.toUTCString(), timestampUs: String(Math.round(nowMs * 1000)) };
}

/** The block every event starts with. */
export function commonHeaders(name: string, host: HostIdentity, nowMs: number, sequence: number): Header[] {
  const date = eventDates(nowMs);
  const [file, func, line] = CALLING[name] ?? ['switch_event.c', 'switch_event_fire_detailed', 2000];
  return [
    ['Event-Name', name],
    ['Core-UUID', host.coreUuid],
    ['FreeSWITCH-Hostname', host.hostname],
    ['FreeSWITCH-Switchname', host.switchname],
    ['FreeSWITCH-IPv4', host.ipv4],
    ['FreeSWITCH-IPv6', host.ipv6],
    ['Event-Date-Local', date.local],
    ['Event-Date-GMT', date.gmt],
    ['Event-Date-Timestamp', date.timestampUs],
    ['Event-Calling-File', file],
    ['Event-Calling-Function', func],
    ['Event-Calling-Line-Number', String(line)],
    ['Event-Sequence', String(sequence)],
  ];
}

const us = (n: number): string => String(n);

/** switch_caller_profile_event_set_data for the caller's (inbound SIP) profile. */
export function callerProfile(prefix: string, ch: FsChannel): Header[] {
  const p = ch.id;
  return [
    [`${prefix}-Direction`, 'inbound'],
    [`${prefix}-Logical-Direction`, 'inbound'],
    [`${prefix}-Username`, p.callerNumber],
    [`${prefix}-Dialplan`, 'XML'],
    [`${prefix}-Caller-ID-Name`, p.callerName],
    [`${prefix}-Caller-ID-Number`, p.callerNumber],
    [`${prefix}-Orig-Caller-ID-Name`, p.callerName],
    [`${prefix}-Orig-Caller-ID-Number`, p.callerNumber],
    [`${prefix}-Network-Addr`, '192.0.2.10'],
    [`${prefix}-ANI`, p.callerNumber],
    [`${prefix}-Destination-Number`, p.destination],
    [`${prefix}-Unique-ID`, ch.uuid],
    [`${prefix}-Source`, 'mod_sofia'],
    [`${prefix}-Context`, 'default'],
    [`${prefix}-Channel-Name`, ch.name],
    [`${prefix}-Profile-Index`, '1'],
    [`${prefix}-Profile-Created-Time`, us(p.createdUs)],
    [`${prefix}-Channel-Created-Time`, us(p.createdUs)],
    [`${prefix}-Channel-Answered-Time`, us(ch.answeredUs)],
    [`${prefix}-Channel-Progress-Time`, us(ch.progressUs)],
    [`${prefix}-Channel-Progress-Media-Time`, '0'],
    [`${prefix}-Channel-Hangup-Time`, us(ch.hangupUs)],
    [`${prefix}-Channel-Transfer-Time`, '0'],
    [`${prefix}-Channel-Resurrect-Time`, '0'],
    [`${prefix}-Channel-Bridged-Time`, us(ch.bridgedUs)],
    [`${prefix}-Channel-Last-Hold`, '0'],
    [`${prefix}-Channel-Hold-Accum`, '0'],
    [`${prefix}-Screen-Bit`, 'true'],
    [`${prefix}-Privacy-Hide-Name`, 'false'],
    [`${prefix}-Privacy-Hide-Number`, 'false'],
  ];
}

/** The bridged leg, as the a-leg's events carry it once a bridge answered (no Profile-Index there). */
function otherLegProfile(ch: FsChannel): Header[] {
  const o = ch.other;
  if (!o) return [];
  const p = ch.id;
  return [
    ['Other-Type', 'originatee'],
    ['Other-Leg-Direction', 'outbound'],
    ['Other-Leg-Logical-Direction', 'outbound'],
    ['Other-Leg-Dialplan', 'XML'],
    ['Other-Leg-Caller-ID-Name', p.callerName],
    ['Other-Leg-Caller-ID-Number', p.callerNumber],
    ['Other-Leg-Orig-Caller-ID-Name', p.callerName],
    ['Other-Leg-Orig-Caller-ID-Number', p.callerNumber],
    ['Other-Leg-ANI', p.callerNumber],
    ['Other-Leg-Destination-Number', o.destination],
    ['Other-Leg-Unique-ID', o.uuid],
    ['Other-Leg-Source', 'mod_sofia'],
    ['Other-Leg-Context', 'default'],
    ['Other-Leg-Channel-Name', o.channelName],
    ['Other-Leg-Profile-Created-Time', us(o.createdUs)],
    ['Other-Leg-Channel-Created-Time', us(o.createdUs)],
    ['Other-Leg-Channel-Answered-Time', us(o.answeredUs)],
    ['Other-Leg-Channel-Progress-Time', '0'],
    ['Other-Leg-Channel-Progress-Media-Time', '0'],
    ['Other-Leg-Channel-Hangup-Time', '0'],
    ['Other-Leg-Channel-Transfer-Time', '0'],
    ['Other-Leg-Channel-Resurrect-Time', '0'],
    ['Other-Leg-Channel-Bridged-Time', '0'],
    ['Other-Leg-Channel-Last-Hold', '0'],
    ['Other-Leg-Channel-Hold-Accum', '0'],
    ['Other-Leg-Screen-Bit', 'true'],
    ['Other-Leg-Privacy-Hide-Name', 'false'],
    ['Other-Leg-Privacy-Hide-Number', 'false'],
  ];
}

/** switch_channel_event_set_data: state, profile, bridged leg, then (extended data) every variable. */
export function channelData(ch: FsChannel, withVariables: boolean): Header[] {
  const out: Header[] = [
    ['Channel-State', ch.running],
    ['Channel-Call-State', ch.callState],
    ['Channel-State-Number', String(ch.stateNumber)],
    ['Channel-Name', ch.name],
    ['Unique-ID', ch.uuid],
    ['Call-Direction', 'inbound'],
    ['Presence-Call-Direction', 'inbound'],
    ['Channel-HIT-Dialplan', 'true'],
    ['Channel-Call-UUID', ch.uuid],
    ['Answer-State', ch.answerState],
  ];
  if (ch.hangupCause !== null) out.push(['Hangup-Cause', ch.hangupCause]);
  out.push(
    ['Channel-Read-Codec-Name', 'PCMU'],
    ['Channel-Read-Codec-Rate', '8000'],
    ['Channel-Read-Codec-Bit-Rate', '64000'],
    ['Channel-Write-Codec-Name', 'PCMU'],
    ['Channel-Write-Codec-Rate', '8000'],
    ['Channel-Write-Codec-Bit-Rate', '64000'],
    ...callerProfile('Caller', ch),
    ...otherLegProfile(ch),
  );
  if (withVariables) for (const [n, v] of ch.vars) out.push([`variable_${n}`, v]);
  return out;
}

/** Events that carry only the basic channel data, never the variables. */
const WITHOUT_VARIABLES = new Set(['CHANNEL_STATE', 'CHANNEL_CALLSTATE', 'DTMF', 'CODEC', 'CHANNEL_OUTGOING']);

/**
 * The headers after the common block for a channel event: `pre` go before the channel data
 * (CHANNEL_CALLSTATE's, CHANNEL_BRIDGE's, HANGUP_COMPLETE's first Hangup-Cause), `post` after it.
 */
export function channelEventHeaders(name: string, ch: FsChannel, post: readonly Header[] = [], pre: readonly Header[] = []): Header[] {
  return [...pre, ...channelData(ch, !WITHOUT_VARIABLES.has(name)), ...post];
}

/** The connect reply's CHANNEL_DATA dump: the profile once more with the `Channel` prefix first. */
export function channelDataDump(ch: FsChannel): Header[] {
  return [...callerProfile('Channel', ch), ...channelData(ch, true)];
}
