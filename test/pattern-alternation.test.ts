import { describe, expect, it } from 'vitest';
import { stallRisk } from '../engine/pattern-safety.ts';
import { compilePattern } from '../engine/routing.ts';

describe('pattern safety: alternatives of different lengths', () => {
  // Both alternatives match exactly one character: pattern-safety.ts's doc says such groups are not variable.
  it('a one-character escape written as \\xHH or \\uHHHH is one character long', () => {
    for (const p of ['^(\\x2a|#)+$', '^(\\u0023|\\*)+$', '^(\\*|\\x23)+$']) {
      expect(stallRisk(p), p).toBeUndefined();
      expect(compilePattern(p).ok, p).toBe(true);
    }
  });
  // Accepted before 911b733; an optional fixed prefix of either of two lengths is no stall risk.
  it('an optional international prefix and country code still load', () => {
    expect(compilePattern('^(\\+|00)?(1|44)?(\\d+)$').ok).toBe(true);
    expect(compilePattern('^(\\d{3}|\\d{4})?(\\d{3}|\\d{4})?(\\d+)?$').ok).toBe(true);
  });
  // Each (1|11) cuts a number two ways: thirty of them in a row is 2^30 tries on a near miss.
  it('many alternations of different lengths in a row count as pieces', () => {
    expect(compilePattern('^' + '(1|11)'.repeat(4) + '$').ok).toBe(true);
    expect(compilePattern('^' + '(1|11)'.repeat(30) + '$').ok).toBe(false);
  });
});
