import type { AccountView } from '../../../engine/call/account-view.ts';
import type { BridgeEndpoint, SwitchCommand } from '../../../engine/switch.ts';
import { causeName, switchTrue } from './causes.ts';
import { parseDialString, resolveLeg } from './dial-string.ts';

/**
 * A `sendmsg` execute as FreeSWITCH would run it, decided when the application starts (so the
 * channel variables set before it count, as they do in FreeSWITCH):
 * - `model`: the simulator plays it (answer, playback, say, record, sleep, set, bridge);
 * - `instant`: FreeSWITCH applications with no time or media behaviour, done at once;
 * - `hangup`: the hangup application (its EXECUTE_COMPLETE follows CHANNEL_HANGUP);
 * - `invalid`: FreeSWITCH does not know it: switch_core_session_execute_application hangs the
 *   channel up with DESTINATION_OUT_OF_ORDER and sends no CHANNEL_EXECUTE at all.
 */
export type AppPlan =
  | { readonly kind: 'model'; readonly command: SwitchCommand; readonly bridge?: BridgeSetup }
  | { readonly kind: 'instant'; readonly setVar?: readonly [string, string | null] }
  | { readonly kind: 'hangup'; readonly cause: string }
  | { readonly kind: 'invalid' };

/** What the peer must remember about a bridge to report it as FreeSWITCH would. */
export interface BridgeSetup {
  readonly endpoints: readonly BridgeEndpoint[];
  /** Legs the switch could not even start (unknown user...), with their causes. */
  readonly failedLegs: readonly { readonly endpoint: string; readonly cause: string }[];
  /** In a `|` bridge, the cause of unstartable legs after the last real one: the bridge's cause if the rest fail. */
  readonly trailingFailureCause: string | null;
}

const ALL_DTMF = '0123456789*#ABCD';

/** playback/record read `playback_terminators` (default `*`; `none`: none; `any`: every digit). */
function terminators(vars: ReadonlyMap<string, string>): string | undefined {
  const t = vars.get('playback_terminators') ?? '*';
  if (t === 'none' || t === '') return undefined;
  return t === 'any' ? ALL_DTMF : t;
}

const int = (s: string | undefined, fallback = 0): number => {
  const n = Number.parseInt(s ?? '', 10);
  return Number.isFinite(n) ? n : fallback;
};

export function planApp(name: string, arg: string, vars: ReadonlyMap<string, string>, account: AccountView | undefined): AppPlan {
  switch (name) {
    case 'answer':
      return { kind: 'model', command: { app: 'answer' } };
    case 'sleep':
      return { kind: 'model', command: { app: 'sleep', ms: Math.max(0, int(arg)) } };
    case 'playback': {
      const t = terminators(vars);
      return { kind: 'model', command: { app: 'playback', file: arg, ...(t === undefined ? {} : { terminators: t }) } };
    }
    case 'say': {
      // `<language> <type> <method> <text>`: the simulator speaks name_spelled, as mod_say_en does.
      const text = arg.split(' ').slice(3).join(' ');
      const t = terminators(vars);
      return { kind: 'model', command: { app: 'say', text, ...(t === undefined ? {} : { terminators: t }) } };
    }
    case 'record':
      return { kind: 'model', command: recordCommand(arg, vars) };
    case 'set': {
      const eq = arg.indexOf('=');
      const [n, v] = eq < 0 ? [arg, ''] : [arg.slice(0, eq), arg.slice(eq + 1)];
      return { kind: 'model', command: { app: 'set', name: n, value: v } };
    }
    case 'bridge':
      return bridgePlan(arg, vars, account);
    case 'hangup':
      return { kind: 'hangup', cause: causeName(arg === '' ? undefined : arg) };
    case 'unset':
      return { kind: 'instant', setVar: [arg, null] };
    case 'export': {
      const eq = arg.indexOf('=');
      return eq < 0 ? { kind: 'instant' } : { kind: 'instant', setVar: [arg.slice(0, eq).replace(/^nolocal:/, ''), arg.slice(eq + 1)] };
    }
    // The socket application parked the channel already: FreeSWITCH's park returns at once then.
    case 'park':
    case 'log':
    case 'info':
      return { kind: 'instant' };
    default:
      return { kind: 'invalid' };
  }
}

/** `record <path> [<limit secs> [<silence threshold> <silence hits>]]`. */
function recordCommand(arg: string, vars: ReadonlyMap<string, string>): SwitchCommand {
  const [path = '', limit, thresh, hits] = arg.split(/\s+/);
  const t = terminators(vars);
  return {
    app: 'record',
    path,
    limitSeconds: Math.max(0, int(limit)),
    ...(t === undefined ? {} : { terminators: t }),
    ...(thresh === undefined ? {} : { silenceThreshold: int(thresh) }),
    ...(hits === undefined ? {} : { silenceHits: int(hits) }),
  };
}

function bridgePlan(arg: string, vars: ReadonlyMap<string, string>, account: AccountView | undefined): AppPlan {
  const dial = parseDialString(arg);
  const global = (n: string): string | undefined => dial.globals.get(n) ?? vars.get(n);
  const endpoints: BridgeEndpoint[] = [];
  const failedLegs: { endpoint: string; cause: string }[] = [];
  let trailingFailureCause: string | null = null;
  for (const leg of dial.legs) {
    const r = resolveLeg(leg, dial.globals, account);
    if (r.ok) {
      endpoints.push(r.endpoint);
      trailingFailureCause = null;
    } else {
      failedLegs.push({ endpoint: r.endpoint, cause: r.cause });
      trailingFailureCause = r.cause;
    }
  }
  const timeout = int(global('originate_timeout') ?? global('call_timeout'));
  return {
    kind: 'model',
    command: {
      app: 'bridge',
      endpoints,
      strategy: dial.sequential ? 'single' : 'simultaneous',
      timeoutSeconds: Math.max(0, timeout),
      ignoreEarlyMedia: switchTrue(global('ignore_early_media')),
      // The simulator never hangs the caller up itself; the peer applies mod_dptools' rule (causes.ts).
      continueOnFail: true,
    },
    bridge: { endpoints, failedLegs, trailingFailureCause },
  };
}
