import type { AccountView } from '../../../engine/call/account-view.ts';
import type { BridgeEndpoint } from '../../../engine/switch.ts';

/**
 * FreeSWITCH dial strings as switch_ivr_originate reads them:
 * `{global=vars}[leg=vars]endpoint,[leg=vars]endpoint|endpoint`. `,` rings legs at once, `|`
 * tries them in turn; separators inside `{}`/`[]` do not count. Only `user/<name>@<domain>`
 * (mod_dptools' directory endpoint, resolved here against the account's devices) and
 * `error/<cause>` are modelled; any other endpoint fails as an unknown user would.
 */

export interface DialLeg {
  readonly endpoint: string;
  readonly vars: ReadonlyMap<string, string>;
}

export interface DialString {
  readonly globals: ReadonlyMap<string, string>;
  readonly legs: readonly DialLeg[];
  /** `|` between legs (one after another) rather than `,` (at once). */
  readonly sequential: boolean;
}

/** Splits at `sep` outside brackets and braces. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && depth > 0) depth--;
    if (c === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function parseVars(body: string, into: Map<string, string>): void {
  for (const pair of splitTop(body, ',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) into.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).replace(/^'(.*)'$/, '$1'));
  }
}

/** Takes a leading `open…close` block off `s`, parsing its variables into `into`. */
function takeBlock(s: string, open: string, close: string, into: Map<string, string>): string {
  if (!s.startsWith(open)) return s;
  const end = s.indexOf(close);
  if (end < 0) return s;
  parseVars(s.slice(1, end), into);
  return s.slice(end + 1);
}

export function parseDialString(text: string): DialString {
  const globals = new Map<string, string>();
  const rest = takeBlock(text.trim(), '{', '}', globals);
  const groups = splitTop(rest, '|');
  const legs: DialLeg[] = [];
  for (const group of groups) {
    for (const raw of splitTop(group, ',')) {
      const vars = new Map<string, string>();
      const endpoint = takeBlock(takeBlock(raw.trim(), '[', ']', vars), '{', '}', vars).trim();
      if (endpoint !== '') legs.push({ endpoint, vars });
    }
  }
  return { globals, legs, sequential: groups.length > 1 };
}

export type ResolvedLeg = { readonly ok: true; readonly endpoint: BridgeEndpoint } | { readonly ok: false; readonly cause: string; readonly endpoint: string };

const seconds = (v: string | undefined): number => {
  const n = v === undefined ? 0 : Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
};

/**
 * A leg as the switch resolves it: `user/name@domain` finds the device whose SIP username and
 * realm (its own, else the account's) match. An unknown user fails SUBSCRIBER_ABSENT as
 * mod_dptools' user endpoint does; `error/<cause>` fails with that cause.
 */
export function resolveLeg(leg: DialLeg, globals: ReadonlyMap<string, string>, account: AccountView | undefined): ResolvedLeg {
  const e = leg.endpoint;
  if (e.startsWith('error/')) return { ok: false, cause: e.slice(6).toUpperCase(), endpoint: e };
  const m = /^user\/([^@]+)@(.+)$/.exec(e);
  const device = m && account?.bundle.devices.find((d) => d.sip.username === m[1] && (d.sip.realm ?? account.realm).toLowerCase() === m[2]!.toLowerCase());
  if (!m || !device) return { ok: false, cause: 'SUBSCRIBER_ABSENT', endpoint: e };
  const v = (name: string): string | undefined => leg.vars.get(name) ?? globals.get(name);
  return {
    ok: true,
    endpoint: {
      deviceId: device.id,
      ...(device.owner_id === undefined ? {} : { ownerId: device.owner_id }),
      username: m[1]!,
      realm: m[2]!,
      delaySeconds: seconds(v('leg_delay_start')),
      timeoutSeconds: seconds(v('leg_timeout')),
    },
  };
}
