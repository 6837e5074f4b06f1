import { assign, setup } from 'xstate';
import type { HangupBy } from '../trace/rows.ts';

/**
 * The channel's lifecycle as the switch reports it: created, ringing, answered, bridged,
 * hung up, destroyed. Driven only by switch events (plus the engine's notes that it asked for
 * the hangup, and that a node started after the callee left, which decide who hung up).
 */
export interface ChannelFacts {
  createdAt: number;
  answeredAt: number | null;
  hungUpAt: number | null;
  destroyedAt: number | null;
  /** KAZOO's call_bridged: a CHANNEL_BRIDGE was seen at least once. */
  everBridged: boolean;
  hangupCause: string | null;
  hangupCode: string | null;
  disposition: string | null;
  hangupBy: HangupBy | null;
  engineAskedHangup: boolean;
  /**
   * The bridged callee left first (UNBRIDGE while this channel was still up) and no node has
   * started since: a hangup now follows the callee's. Cleared by NODE_STARTED.
   */
  calleeEnded: boolean;
  disconnected: boolean;
}

export type ChannelInput =
  | { type: 'CHANNEL_PROGRESS' | 'CHANNEL_ANSWER' | 'CHANNEL_BRIDGE' | 'CHANNEL_UNBRIDGE'; at: number }
  | {
      type: 'CHANNEL_HANGUP' | 'CHANNEL_HANGUP_COMPLETE';
      at: number;
      headers: Readonly<Record<string, string>>;
      /** The engine had asked for this hangup. */
      engineAsked: boolean;
    }
  | { type: 'CHANNEL_DESTROY' | 'CHANNEL_DISCONNECTED'; at: number; engineAsked: boolean }
  /**
   * The engine's note that a callflow node started. The Call sends it only while calleeEnded is
   * true (never for a normal call): the callflow went on after the callee left, so a later
   * hangup is no longer the callee's.
   */
  | { type: 'NODE_STARTED'; at: number };

const CALLER_DISPOSITIONS = new Set(['recv_bye', 'recv_cancel', 'recv_refuse']);

function hangupFacts(ctx: ChannelFacts, at: number, h: Readonly<Record<string, string>>, engineAsked: boolean): Partial<ChannelFacts> {
  const cause = h['Hangup-Cause'] ?? h['variable_hangup_cause'] ?? ctx.hangupCause;
  const disposition = h['variable_sip_hangup_disposition'] ?? ctx.disposition;
  const code =
    h['variable_proto_specific_hangup_cause'] ??
    (h['variable_sip_term_status'] ? `sip:${h['variable_sip_term_status']}` : undefined) ??
    ctx.hangupCode;
  let by: HangupBy;
  if (disposition && CALLER_DISPOSITIONS.has(disposition)) by = 'caller';
  else if (ctx.calleeEnded) by = 'callee';
  else if (engineAsked || ctx.engineAskedHangup) by = 'engine';
  else by = 'switch';
  return {
    hungUpAt: ctx.hungUpAt ?? at,
    hangupCause: cause ?? null,
    disposition: disposition ?? null,
    hangupCode: code ?? null,
    // FreeSWITCH sets sip_hangup_disposition only after CHANNEL_HANGUP (the recorded SIP call has it
    // on HANGUP_COMPLETE alone): a caller's disposition arriving later still names the caller.
    hangupBy:
      ctx.hangupBy === null || (ctx.disposition === null && by === 'caller') ? by : ctx.hangupBy,
    engineAskedHangup: ctx.engineAskedHangup || engineAsked,
  };
}

export const channelMachine = setup({
    types: { context: {} as ChannelFacts, events: {} as ChannelInput, input: {} as { createdAt: number } },
    actions: {
      markAnswered: assign({ answeredAt: ({ event }) => event.at }),
      // A bridge answers the caller; should the switch report the bridge first, it still counts as answered.
      markBridged: assign({ answeredAt: ({ context, event }) => context.answeredAt ?? event.at, everBridged: true }),
      // The callflow went on after the callee left: a later hangup is the engine's, the switch's or the caller's.
      calleeForgotten: assign({ calleeEnded: false }),
    },
  }).createMachine({
    id: 'channel',
    initial: 'created',
    context: ({ input }) => ({
      createdAt: input.createdAt,
      answeredAt: null,
      hungUpAt: null,
      destroyedAt: null,
      everBridged: false,
      hangupCause: null,
      hangupCode: null,
      disposition: null,
      hangupBy: null,
      engineAskedHangup: false,
      calleeEnded: false,
      disconnected: false,
    }),
    on: {
      CHANNEL_HANGUP: {
        target: '.hungUp',
        actions: assign(({ context, event }) => hangupFacts(context, event.at, event.headers, event.engineAsked)),
      },
      CHANNEL_DESTROY: { target: '.destroyed', actions: assign(({ context, event }) => gone(context, event.at, event.engineAsked)) },
      CHANNEL_DISCONNECTED: {
        target: '.destroyed',
        actions: assign(({ context, event }) => ({ ...gone(context, event.at, event.engineAsked), disconnected: true })),
      },
    },
    states: {
      created: {
        on: {
          CHANNEL_PROGRESS: 'ringing',
          CHANNEL_ANSWER: { target: 'answered', actions: 'markAnswered' },
          CHANNEL_BRIDGE: { target: 'bridged', actions: 'markBridged' },
        },
      },
      ringing: {
        on: {
          CHANNEL_ANSWER: { target: 'answered', actions: 'markAnswered' },
          CHANNEL_BRIDGE: { target: 'bridged', actions: 'markBridged' },
        },
      },
      answered: {
        on: {
          CHANNEL_BRIDGE: { target: 'bridged', actions: 'markBridged' },
          NODE_STARTED: { actions: 'calleeForgotten' },
        },
      },
      bridged: {
        on: {
          CHANNEL_UNBRIDGE: { target: 'answered', actions: assign({ calleeEnded: true }) },
          NODE_STARTED: { actions: 'calleeForgotten' },
        },
      },
      hungUp: {
        on: {
          // HANGUP_COMPLETE repeats the cause with the final variables (sip codes, durations).
          CHANNEL_HANGUP_COMPLETE: {
            actions: assign(({ context, event }) => hangupFacts(context, event.at, event.headers, event.engineAsked)),
          },
          CHANNEL_HANGUP: {},
        },
      },
      destroyed: {
        type: 'final',
      },
    },
  });

function gone(ctx: ChannelFacts, at: number, engineAsked: boolean): Partial<ChannelFacts> {
  return {
    destroyedAt: at,
    hungUpAt: ctx.hungUpAt ?? at,
    hangupBy: ctx.hangupBy ?? (engineAsked || ctx.engineAskedHangup ? 'engine' : 'switch'),
  };
}

