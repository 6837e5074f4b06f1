import { describe, expect, it } from 'vitest';
import type { LoadedCallflow } from '../engine/documents/types.ts';
import { Router } from '../engine/routing.ts';
import { account, callflow, simulate } from './support/sim.ts';

const cf = (id: string, numbers: string[], patterns: string[] = []): LoadedCallflow => ({
  doc: { id, numbers, patterns, flow: { module: 'test_continue', data: {} } },
  file: `${id}.json`,
  revision: id,
});

describe('routing (KAZOO cf_flow)', () => {
  const router = new Router([
    cf('exact', ['2000', '+14155552000']),
    cf('short', [], ['^2(\\d)$']),
    cf('long', [], ['^\\+?1(\\d{3})(\\d{7})$', '^(?P<ext>\\d{4})$']),
    cf('wide', [], ['^3\\d+$']),
    cf('fallback', ['no_match']),
  ]);

  it('an exact number wins over any pattern', () => {
    expect(router.route('2000')?.callflow.doc.id).toBe('exact');
    expect(router.route('2000')?.by).toBe('number');
  });

  it('among patterns, the longest capture wins and the captures are kept', () => {
    const r = router.route('+14155550100')!;
    expect(r.callflow.doc.id).toBe('long');
    expect(r.by).toBe('pattern');
    expect(r.captureGroup).toBe('5550100');
    const named = router.route('4321')!;
    expect(named.captureGroups).toEqual({ ext: '4321' });
    expect(named.captureGroup).toBe('4321');
  });

  it('a pattern with groups scores by them even when none took part: its whole match never counts', () => {
    const r = new Router([cf('optional', [], ['^(\\+1)?\\d{10}$']), cf('sf', [], ['^415(\\d{7})$'])]).route('4155550100')!;
    expect(r.callflow.doc.id).toBe('sf');
    expect(r.captureGroup).toBe('5550100');
    // Alone it still routes, with no capture group (KAZOO drops the empty value).
    const alone = new Router([cf('optional', [], ['^(\\+1)?\\d{10}$'])]).route('4155550100')!;
    expect(alone.callflow.doc.id).toBe('optional');
    expect(alone.captureGroup).toBeUndefined();
  });

  it('without groups the whole match counts; a tie goes to the first pattern tested', () => {
    const r = new Router([cf('a', [], ['^(\\d)\\d$']), cf('b', [], ['^\\d\\d$']), cf('c', [], ['^(\\d\\d)$'])]).route('42')!;
    // a captures "4" (1), b has no group so "42" (2), c captures "42" (2): b was tested first.
    expect(r.callflow.doc.id).toBe('b');
  });

  it('no_match takes all-digit numbers (a leading + allowed) and nothing else', () => {
    expect(router.route('999')?.callflow.doc.id).toBe('fallback');
    expect(router.route('+999')?.by).toBe('no_match');
    expect(router.route('sales')).toBeUndefined();
    expect(router.route('no_match')).toBeUndefined();
  });

  it('a call to a number nothing routes is refused with NO_ROUTE_DESTINATION and recorded', async () => {
    const r = await simulate({ account: account([callflow('main', { module: 'test_continue', data: {} }, ['100'])]), scenario: { call: { from: '1', to: 'sales' } } });
    expect(r.summary.status).toBe('failed');
    expect(r.summary.endReason).toBe('no_route');
    expect(r.summary.hangupCause).toBe('NO_ROUTE_DESTINATION');
    expect(r.detail.steps).toHaveLength(0);
  });

  it('the captures reach the call and the step log', async () => {
    const r = await simulate({
      account: account([callflow('main', { module: 'test_continue', data: {} }, [], ['^\\*97(\\d+)$'])]),
      scenario: { call: { from: '1', to: '*972000' } },
    });
    expect(r.detail.execution.route_by).toBe('pattern');
    expect(r.detail.execution.capture_group).toBe('2000');
  });
});

describe('a number two callflows claim', () => {
  it('the first callflow in load order gets it (KAZOO: "if several docs match, the first is used")', () => {
    const router = new Router([cf('first', ['2000', '2001']), cf('second', ['3000', '2000']), cf('third', ['2000'])]);
    expect(router.route('2000')?.callflow.doc.id).toBe('first');
    expect(router.route('2000')?.by).toBe('number');
    // Numbers only one of them claims are unaffected.
    expect(router.route('3000')?.callflow.doc.id).toBe('second');
  });

  it('a call to that number runs the first callflow of the account', async () => {
    const r = await simulate({
      account: account([
        callflow('first', { module: 'test_continue', data: { key: 'from-first' } }, ['100']),
        callflow('second', { module: 'test_continue', data: { key: 'from-second' } }, ['100']),
      ]),
      scenario: { call: { from: '1', to: '100' } },
    });
    expect(r.detail.execution.callflow_id).toBe('first');
    expect(r.detail.steps.map((s) => s.callflow_id)).toEqual(['first']);
  });
});

describe('patterns that could stall the process', () => {
  it('repetition of a variable-length group is found through groups, escapes and character classes (read as JavaScript reads them)', async () => {
    const { stallRisk } = await import('../engine/pattern-safety.ts');
    const hasNestedRepetition = (p: string) => stallRisk(p) !== undefined;
    const flagged = ['(\\d+)+', '(\\d*)*', '(?:a+){1,}', '((\\d)+)+', '(?<n>\\d+)*?', '([0-9]+)+$', '(a|b+)+', '(\\d{2,5})+', '(\\d?\\d)*', '(?P<n>\\d+)+', '(\\d{1,3}){2,20}x', '(\\d+){10}', '^[^](\\d+)+$', '[]|(\\d+)+$'];
    const fine = ['^\\+?1?(\\d{10})$', '^(\\+?1)?(\\d{10})$', '(\\d+)?', '(\\d+){2}', '(\\d{3})+', '(?:\\d)+', '(?=\\d)(\\d)+', '(\\d+?)', '\\(\\d+\\)+', '[(]\\d+[)]+', '(\\d)+', '^\\*97([0-9*#]*)$', '[\\]+]+(x)+', '^(\\d|\\*|#)+$', '(?<a$>\\d)+', '^((?=\\d+)\\d)+$', '(\\d+){3}', '(\\d{1,3}){0,3}'];
    expect(flagged.filter((p) => !hasNestedRepetition(p))).toEqual([]);
    expect(fine.filter((p) => hasNestedRepetition(p))).toEqual([]);
  });

  it('nesting and sequences cannot add up to a stall: repetitions multiply and all variable-length pieces count', async () => {
    const { stallRisk } = await import('../engine/pattern-safety.ts');
    const flagged = ['^(((\\d+){3}){3}){3}$', '^((\\d+){2}){2}$', '^(?:(\\d+)?){4}$', '^(\\d+){3}(\\d+){3}(\\d+){3}(\\d+){3}$', '^(\\d+){3}(\\d+){3}$', '^\\d*\\d*\\d*\\d*\\d*$'];
    const kazoo = ['^\\+?1?(\\d{10})$', '^(\\d{4,5})$', '^\\*97(\\d*)$', '^011(\\d*)$', '^(?:\\+|00)(\\d{5,15})$', '^\\+?(\\d{7,15})$', '^(\\d{2}){1,5}$', '^\\*(\\d{2})(\\d+)$', '^(?P<ext>\\d{3,4})$', '^\\+1(\\d{3})(\\d{3})(\\d{4})$', '^((\\d+))$', '^(\\d+){3}\\d?$'];
    expect(flagged.filter((p) => stallRisk(p) === undefined)).toEqual([]);
    expect(kazoo.filter((p) => stallRisk(p) !== undefined)).toEqual([]);
    expect(stallRisk('^(((\\d+){3}){3}){3}$')).toMatch(/^a group of variable length is repeated without bound or more than 3 times in all \(/);
    expect(stallRisk('^(\\d+){3}(\\d+){3}$')).toMatch(/^more than 4 variable-length pieces, each counted as often as it can repeat \(/);
  });

  it('a number too long to be dialled skips the patterns, so even an allowed pattern stays fast; exact numbers and no_match still apply', () => {
    // Four pieces pass the check, yet cost the fourth power of the length: fine at 64 characters, seconds at 400.
    const router = new Router([cf('four', [], ['^(\\d+){3}\\d*$']), cf('exact', ['1'.repeat(70)]), cf('fallback', ['no_match'])]);
    const started = Date.now();
    expect(router.route('1'.repeat(400) + '#')).toBeUndefined();
    expect(router.route('1'.repeat(80))?.by).toBe('no_match');
    expect(router.route('1'.repeat(70))?.callflow.doc.id).toBe('exact');
    expect(router.route('1'.repeat(64))?.callflow.doc.id).toBe('four');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
