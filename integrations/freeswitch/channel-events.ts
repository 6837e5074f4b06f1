import { CHANNEL_EVENT_NAMES, type ChannelEvent, type ChannelEventName } from '../../engine/switch.ts';

/** Marks an event the driver made up (FreeSWITCH never sends it on an outbound socket). */
export const SYNTHESIZED_HEADER = 'X-Callflow-Synthesized';
/** On a synthesized CHANNEL_DISCONNECTED: why the control connection went. */
export const DISCONNECT_REASON_HEADER = 'X-Callflow-Disconnect-Reason';

const WIRE_NAMES: ReadonlySet<string> = new Set<ChannelEventName>(
  CHANNEL_EVENT_NAMES.filter((n) => n !== 'CHANNEL_CREATE' && n !== 'CHANNEL_DISCONNECTED'),
);

/**
 * Whether a wire event of this name may reach the engine. CHANNEL_CREATE is synthesized at
 * `connect` (the channel exists before the socket does) and CHANNEL_DISCONNECTED is the
 * driver's own; everything outside the engine's list (CHANNEL_PARK, CHANNEL_STATE, CODEC, ...)
 * is dropped.
 */
export function deliverable(name: string): name is ChannelEventName {
  return WIRE_NAMES.has(name);
}

/** The caller profile a synthesized CHANNEL_CREATE carries, as the simulator's does. */
const PROFILE = [
  'Channel-Name',
  'Call-Direction',
  'Caller-Caller-ID-Number',
  'Caller-Caller-ID-Name',
  'Caller-Destination-Number',
  'Caller-Network-Addr',
] as const;

export function synthesized(name: ChannelEventName, uuid: string, headers: Readonly<Record<string, string>>): ChannelEvent {
  return { name, uuid, headers: { 'Event-Name': name, 'Unique-ID': uuid, ...headers, [SYNTHESIZED_HEADER]: 'true' } };
}

/** CHANNEL_CREATE from the connect reply's channel dump (CHANNEL_DATA). */
export function createFromChannelData(uuid: string, data: Readonly<Record<string, string>>): ChannelEvent {
  const headers: Record<string, string> = { 'Answer-State': data['Answer-State'] ?? 'ringing' };
  for (const h of PROFILE) if (data[h] !== undefined) headers[h] = data[h]!;
  return synthesized('CHANNEL_CREATE', uuid, headers);
}

/**
 * The headers of a FreeSWITCH event an outbound session keeps: those it reads (engine/call/) and those a
 * reader of the trace needs. FreeSWITCH sends every channel variable on most events (~150
 * headers, ~3 KB); keeping them all would hold that much per event in each live call's trace
 * until it ends, and write it to the step log. The link takes only these off the wire.
 */
const KEPT = new Set([
  'Event-Name', 'Unique-ID', 'Event-Date-Timestamp', 'Event-Sequence',
  'Answer-State', 'Channel-State', 'Channel-Call-State', 'Channel-Name', 'Call-Direction',
  'Caller-Caller-ID-Number', 'Caller-Caller-ID-Name', 'Caller-Destination-Number',
  'Application', 'Application-Data', 'Application-Response', 'Application-UUID',
  'Hangup-Cause', 'DTMF-Digit', 'DTMF-Duration', 'DTMF-Source',
  'Playback-File-Path', 'Playback-Status', 'Record-File-Path',
  'Bridge-A-Unique-ID', 'Bridge-B-Unique-ID', 'Other-Type', 'Other-Leg-Unique-ID', 'Other-Leg-Channel-Name',
  'variable_hangup_cause', 'variable_hangup_cause_q850', 'variable_sip_hangup_disposition', 'variable_sip_term_status',
  'variable_proto_specific_hangup_cause', 'variable_duration', 'variable_billsec',
  'variable_originate_disposition', 'variable_DIALSTATUS', 'variable_originate_failed_cause',
  'variable_last_bridge_to', 'variable_last_bridge_hangup_cause', 'variable_last_bridge_proto_specific_hangup_cause',
  'variable_bridge_hangup_cause', 'variable_playback_terminator_used', 'variable_record_ms',
  SYNTHESIZED_HEADER, DISCONNECT_REASON_HEADER,
]);

/** What an outbound session reads off each event: the kept headers, and the uuid change's old uuid. */
export const SESSION_EVENT_HEADERS: ReadonlySet<string> = new Set([...KEPT, 'Old-Unique-ID']);


