import type { LoadedCallflow } from './documents/types.ts';
import { hasNestedRepetition } from './pattern-safety.ts';

export interface RouteMatch {
  /** How the number matched: exact number, pattern, or the account's `no_match` callflow. */
  readonly by: 'number' | 'pattern' | 'no_match';
  readonly callflow: LoadedCallflow;
  readonly pattern?: string;
  /** KAZOO's cf_capture_group: the longest captured group (or the whole match without groups). */
  readonly captureGroup?: string;
  /** KAZOO's cf_capture_groups: named groups. */
  readonly captureGroups: Readonly<Record<string, string>>;
}

/** KAZOO patterns are PCRE; the one PCRE-only spelling in common use is `(?P<name>`. */
export function compilePattern(pattern: string): { ok: true; re: RegExp } | { ok: false; problem: string } {
  let re: RegExp;
  try {
    re = new RegExp(pattern.replace(/\(\?P</g, '(?<'));
  } catch (err) {
    return { ok: false, problem: `invalid regular expression: ${(err as Error).message}` };
  }
  if (hasNestedRepetition(pattern)) {
    return { ok: false, problem: 'a group of variable length is repeated without bound or more than 3 times (like (\\d+)+ or (\\d{1,3}){2,20}): matching a long number can take exponential time; write it without the nesting' };
  }
  return { ok: true, re };
}

/**
 * Routes a dialled number as KAZOO's cf_flow does: exact number, then every pattern (the one
 * whose longest capture is longest wins; the first tested wins a tie), then `no_match` for
 * all-digit numbers.
 */
export class Router {
  private readonly byNumber = new Map<string, LoadedCallflow>();
  private readonly patterns: { re: RegExp; source: string; callflow: LoadedCallflow }[] = [];

  constructor(callflows: readonly LoadedCallflow[]) {
    for (const cf of callflows) {
      for (const n of cf.doc.numbers) if (!this.byNumber.has(n)) this.byNumber.set(n, cf);
      for (const p of cf.doc.patterns) {
        const c = compilePattern(p);
        if (c.ok) this.patterns.push({ re: c.re, source: p, callflow: cf });
      }
    }
  }

  route(number: string): RouteMatch | undefined {
    const exact = number === 'no_match' ? undefined : this.byNumber.get(number);
    if (exact) return { by: 'number', callflow: exact, captureGroups: {} };

    let best: { match: RegExpExecArray; capture: string; source: string; callflow: LoadedCallflow } | undefined;
    for (const p of this.patterns) {
      const m = p.re.exec(number);
      if (!m) continue;
      const groups = m.slice(1).filter((g): g is string => typeof g === 'string');
      const capture = groups.length === 0 ? m[0] : groups.reduce((a, b) => (b.length > a.length ? b : a), '');
      if (!best || capture.length > best.capture.length) best = { match: m, capture, source: p.source, callflow: p.callflow };
    }
    if (best) {
      const named: Record<string, string> = {};
      for (const [k, v] of Object.entries(best.match.groups ?? {})) if (v !== undefined) named[k] = v;
      return { by: 'pattern', callflow: best.callflow, pattern: best.source, captureGroup: best.capture, captureGroups: named };
    }

    const fallback = this.byNumber.get('no_match');
    if (fallback && /^\+?\d+$/.test(number)) return { by: 'no_match', callflow: fallback, captureGroups: {} };
    return undefined;
  }
}
