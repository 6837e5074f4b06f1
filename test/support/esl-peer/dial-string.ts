import type { AccountView } from '../../../engine/call/account-view.ts';
import type { BridgeEndpoint } from '../../../engine/switch.ts';

/**
 * FreeSWITCH dial strings as switch_ivr_originate reads them:
 * `{global=vars}[leg=vars]endpoint,[leg=vars]endpoint|endpoint`. `,` rings legs at once, `|`
 * tries them in turn; separators inside `{}`/`[]`, between `'` quotes or after a `\` do not
 * count (switch_separate_string's rules). Only `user/<name>@<domain>`
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

/**
 * Splits at `sep` as switch_separate_string (separate_string_char_delim) does: not after a `\`
 * (it escapes the next character), not between quotes (a `'` opens them only if another `'`
 * follows), and, as originate protects `[...]` before splitting, not inside brackets or braces.
 * Each part is then cleaned like cleanup_separated_string.
 */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') i++;
    else if (c === "'" && (quoted || s.includes("'", i + 1))) quoted = !quoted;
    else if (quoted) continue;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && depth > 0) depth--;
    else if (c === sep && depth === 0) {
      out.push(cleanup(s.slice(start, i), sep));
      start = i + 1;
    }
  }
  out.push(cleanup(s.slice(start), sep));
  return out;
}

// What a `\` before these characters stands for in cleanup_separated_string (unescape_char).
const UNESCAPED = new Map([['n', '\n'], ['r', '\r'], ['t', '\t'], ['s', ' ']]);

/**
 * cleanup_separated_string: leading spaces off; `\'` `\"` `\\` `\<sep>` and `\n` `\r` `\t` `\s`
 * unescaped (any other `\` stays); quotes removed; trailing spaces off unless quoted. `[...]` and
 * `{...}` blocks are kept as they are: parseVars splits and cleans their variables.
 */
function cleanup(part: string, sep: string): string {
  let out = '';
  let end = 0;
  let depth = 0;
  let quoted = false;
  for (let i = part.search(/[^ ]|$/); i < part.length; i++) {
    const c = part[i]!;
    const next = part[i + 1] ?? '';
    if (depth > 0 || (!quoted && (c === '{' || c === '['))) {
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      out += c;
      end = out.length;
    } else if (c === '\\' && next !== '' && (`'"\\${sep}`.includes(next) || UNESCAPED.has(next))) {
      out += UNESCAPED.get(next) ?? next;
      end = out.length;
      i++;
    } else if (c === "'" && (quoted || part.includes("'", i + 1))) {
      quoted = !quoted;
      if (quoted) end = out.length;
    } else {
      out += c;
      if (c !== ' ' || quoted) end = out.length;
    }
  }
  return out.slice(0, end);
}

function parseVars(body: string, into: Map<string, string>): void {
  for (const pair of splitTop(body, ',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) into.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
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
