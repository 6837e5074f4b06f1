import type { LoadedCallflow } from './documents/types.ts';
import { stallRisk } from './pattern-safety.ts';

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
  const risk = stallRisk(pattern);
  if (risk !== undefined) return { ok: false, problem: risk };
  return { ok: true, re };
}

/** The longest dialled number matched against patterns (E.164 allows 15 digits). */
const MAX_PATTERN_INPUT = 64;

/**
 * Routes a dialled number as KAZOO's cf_flow does: exact number, then every pattern (the one
 * whose longest capture is longest wins; the first tested wins a tie), then `no_match` for
 * all-digit numbers.
 */
export class Router {
  private readonly byNumber = new Map<string, LoadedCallflow>();
  private readonly patterns: { re: RegExp; hasGroups: boolean; source: string; callflow: LoadedCallflow }[] = [];

  constructor(callflows: readonly LoadedCallflow[]) {
    for (const cf of callflows) {
      for (const n of cf.doc.numbers) if (!this.byNumber.has(n)) this.byNumber.set(n, cf);
      for (const p of cf.doc.patterns) {
        const c = compilePattern(p);
        // KAZOO decides at compile time whether a pattern has groups: one whose groups all sat
        // out a match still scores by them, not by its whole match. (`|` lets any pattern match
        // "", so exec yields an entry per group.)
        if (c.ok) this.patterns.push({ re: c.re, hasGroups: new RegExp(c.re.source + '|').exec('')!.length > 1, source: p, callflow: cf });
      }
    }
  }

  route(number: string): RouteMatch | undefined {
    const exact = number === 'no_match' ? undefined : this.byNumber.get(number);
    if (exact) return { by: 'number', callflow: exact, captureGroups: {} };

    let best: { match: RegExpExecArray; capture: string; source: string; callflow: LoadedCallflow } | undefined;
    // Patterns are bounded against stalling (pattern-safety.ts), but a few pieces still cost a
    // power of the number's length; no dialled number is this long, so a longer one (from a
    // careless or hostile peer) skips the patterns rather than risk a polynomial blow-up.
    const patterns = number.length > MAX_PATTERN_INPUT ? [] : this.patterns;
    for (const p of patterns) {
      const m = p.re.exec(number);
      if (!m) continue;
      const capture = p.hasGroups ? m.slice(1).reduce<string>((a, b = '') => (b.length > a.length ? b : a), '') : m[0];
      if (!best || capture.length > best.capture.length) best = { match: m, capture, source: p.source, callflow: p.callflow };
    }
    if (best) {
      const named: Record<string, string> = {};
      for (const [k, v] of Object.entries(best.match.groups ?? {})) if (v !== undefined) named[k] = v;
      return { by: 'pattern', callflow: best.callflow, pattern: best.source, ...(best.capture !== '' ? { captureGroup: best.capture } : {}), captureGroups: named };
    }

    const fallback = this.byNumber.get('no_match');
    if (fallback && /^\+?\d+$/.test(number)) return { by: 'no_match', callflow: fallback, captureGroups: {} };
    return undefined;
  }
}
