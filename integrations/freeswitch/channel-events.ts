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
