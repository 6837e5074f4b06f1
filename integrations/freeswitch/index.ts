/**
 * The FreeSWITCH driver: outbound sockets become engine calls (`startOutboundServer`), and an
 * inbound connection does api/bgapi work (`InboundConnection`). See README "FreeSWITCH".
 */
export { startOutboundServer, type OutboundServer, type OutboundServerOptions, type WireStats } from './outbound-server.ts';
export type { OutboundCall } from './outbound-session.ts';
export { InboundConnection, type CallRegistry, type ChannelRow, type EslResult, type InboundOptions, type InboundState } from './inbound-connection.ts';
export { DEFAULT_LEG_TEMPLATE, renderDialString, type DialStringOptions } from './dial-string.ts';
export { DEFAULT_SOUND_FOLDERS, DEFAULT_SOUND_TEMPLATE, soundFile, type SoundOptions } from './sounds.ts';
export { SYNTHESIZED_HEADER, DISCONNECT_REASON_HEADER } from './channel-events.ts';
export * from './errors.ts';
