import { describe, expect, it } from 'vitest';
import { next } from '../engine/executor/next.ts';
import { testRegistry, type HandlerRun } from './support/test-modules.ts';
import { account, callflow, commands, path, simulate } from './support/sim.ts';

const node = (module: string, data: Record<string, unknown> = {}, children?: Record<string, unknown>) => ({
  module,
  data,
  ...(children ? { children } : {}),
});

const run = (flow: unknown, scenario: Record<string, unknown> = {}, extra: unknown[] = [], registry = testRegistry()) =>
  simulate({
    account: account([callflow('main', flow, ['100']), ...extra]),
    scenario: { call: { from: '200', to: '100' }, ...scenario },
    registry,
  });

describe('executor: KAZOO cf_exe rules', () => {
  it('continue(key) takes that child when it exists', async () => {
    const r = await run(node('test_continue', { key: 'x' }, { x: node('test_continue'), _: node('test_stop') }));
    expect(path(r)).toEqual([
      ['test_continue', 'continue', 'x'],
      ['test_continue', 'continue', null],
    ]);
  });

  it('continue(key) falls back to "_" when that child is missing', async () => {
    const r = await run(node('test_continue', { key: 'nope' }, { _: node('test_continue') }));
    expect(path(r)).toEqual([
      ['test_continue', 'continue', '_'],
      ['test_continue', 'continue', null],
    ]);
    expect(r.detail.steps[0]!.reason).toContain('no child "nope": fell back to "_"');
  });

  it('an empty child stops the callflow', async () => {
    const r = await run(node('test_continue', {}, { _: {} }));
    expect(path(r)).toEqual([['test_continue', 'continue', '_']]);
    expect(r.detail.steps[0]!.reason).toContain('child "_" is empty: stop');
    expect(r.summary.endReason).toBe('callflow_finished');
    expect(r.summary.hangupBy).toBe('engine');
  });

  it('a missing "_" child stops the callflow', async () => {
    const r = await run(node('test_continue', {}, { other: node('test_continue') }));
    expect(path(r)).toEqual([['test_continue', 'continue', null]]);
    expect(r.detail.steps[0]!.reason).toContain('no "_" child');
  });

  it('branch pushes a return point: the branched flow stops, then "_" of the branching node runs', async () => {
    const r = await run(
      node('callflow', { id: 'sub' }, { _: node('test_continue', { key: 'after' }) }),
      {},
      [callflow('sub', node('test_continue', {}, { _: node('test_stop') }))],
    );
    expect(path(r)).toEqual([
      ['callflow', 'branch', null],
      ['test_continue', 'continue', '_'],
      ['test_stop', 'stop', null],
      ['test_continue', 'continue', null],
    ]);
    const steps = r.detail.steps;
    expect(steps.map((s) => s.callflow_id)).toEqual(['main', 'sub', 'sub', 'main']);
    // Steps inside the branch name the step that branched; the return point keeps the outer parent.
    expect(steps.map((s) => s.parent_seq)).toEqual([null, 1, 1, null]);
    expect(steps[3]!.node_path).toBe('/flow/children/_');
  });

  it('branching has a budget of 50 (loop guard)', async () => {
    const r = await run(node('callflow', { id: 'loop' }), {}, [callflow('loop', node('callflow', { id: 'loop' }))]);
    // 50 branches succeed (main, then 49 loop nodes); the next loop node is refused.
    expect(r.detail.steps.length).toBe(51);
    expect(r.detail.steps.slice(0, 50).every((s) => s.outcome === "branch")).toBe(true);
    expect(r.summary.endReason).toBe('branch_limit');
    expect(r.detail.steps.at(-1)!.reason).toContain('branch budget of 50 used up');
  });

  it('an unknown module is skipped to "_"', async () => {
    const r = await run(node('no_such_module', { a: 1 }, { _: node('test_continue') }));
    expect(path(r)).toEqual([
      ['no_such_module', 'unknown_module', '_'],
      ['test_continue', 'continue', null],
    ]);
    expect(r.detail.steps[0]!.data).toBe('{"a":1}');
  });

  it('skip_module goes to "_" without running the module', async () => {
    const r = await run(node('test_throw', { skip_module: true }, { _: node('test_continue') }));
    expect(path(r)).toEqual([
      ['test_throw', 'skipped', '_'],
      ['test_continue', 'continue', null],
    ]);
    expect(r.detail.steps[0]!.error_kind).toBeNull();
  });

  it('a module that throws goes to "_" with the error in the step log', async () => {
    const r = await run(node('test_throw', { message: 'kaput' }, { _: node('test_continue') }));
    expect(path(r)).toEqual([
      ['test_throw', 'error', '_'],
      ['test_continue', 'continue', null],
    ]);
    expect(r.detail.steps[0]!.error_kind).toBe('exception:TypeError');
    expect(r.detail.steps[0]!.error_message).toBe('kaput');
    expect(r.summary.status).toBe('completed');
  });

  it('no node starts after the channel is gone', async () => {
    const r = await run(node('test_sleep', { ms: 10_000 }, { _: node('test_continue') }), { caller: { hangup_at_s: 2 } });
    // FreeSWITCH completes the running application when the channel hangs up; the module then
    // asks to continue, and the executor refuses to start the next node.
    expect(path(r)).toEqual([['test_sleep', 'continue', null]]);
    expect(r.detail.steps[0]!.reason).toContain('channel is gone: no further node starts');
    expect(r.summary.endReason).toBe('channel_gone');
    expect(r.summary.hangupBy).toBe('caller');
    expect(commands(r)).toEqual(['sleep']);
  });

  it('stop with a cause hangs up with it and waits for the channel to go', async () => {
    const r = await run(node('test_answer', {}, { _: node('test_stop', { cause: 'USER_BUSY' }) }));
    expect(r.summary.endReason).toBe('hangup_requested');
    expect(r.summary.hangupCause).toBe('USER_BUSY');
    expect(r.summary.hangupBy).toBe('engine');
  });

  it('a module that chooses nothing leaves the executor waiting for the hangup', async () => {
    const r = await run(node('test_wait', {}, { _: node('test_continue') }), { caller: { hangup_at_s: 30 } });
    expect(path(r)).toEqual([['test_wait', 'wait', null]]);
    expect(r.summary.hangupBy).toBe('caller');
    expect(r.summary.durationMs).toBe(30_000);
  });

  it('attempt(keys) skips empty children and falls back to "_"', async () => {
    const r = await run(node('test_attempt', { keys: ['A', 'B'] }, { A: {}, B: node('test_continue') }));
    expect(path(r)[0]).toEqual(['test_attempt', 'attempt', 'B']);
    const r2 = await run(node('test_attempt', { keys: ['A'] }, { A: {}, _: node('test_continue') }));
    expect(path(r2)[0]).toEqual(['test_attempt', 'attempt', '_']);
  });

  describe('post-hangup handlers', () => {
    it('run exactly once, after the last module has finished, with the final call state', async () => {
      const runs: HandlerRun[] = [];
      const r = await run(
        node('test_on_hangup', { n: 1 }, { _: node('test_answer', {}, { _: node('test_sleep', { ms: 5000 }) }) }),
        {},
        [],
        testRegistry(runs),
      );
      expect(runs).toHaveLength(1);
      const sleepStep = r.detail.steps.find((s) => s.module === 'test_sleep')!;
      expect(runs[0]!.at).toBeGreaterThanOrEqual(sleepStep.ended_at as number);
      expect(runs[0]!.final.hangup).toEqual({ disposition: 'send_bye', cause: 'NORMAL_CLEARING', code: 'sip:200' });
      expect(runs[0]!.final.answered).toBe(true);
      expect(runs[0]!.final.hangupBy).toBe('engine');
      expect(r.detail.effects).toHaveLength(1);
      expect(r.detail.effects[0]!.status).toBe('ok');
      expect(JSON.parse(r.detail.effects[0]!.detail as string)).toEqual({ saw_cause: 'NORMAL_CLEARING' });
      // The effect is recorded after the channel was destroyed.
      const destroy = r.detail.events.find((e) => e.name === 'CHANNEL_DESTROY')!;
      expect(r.detail.effects[0]!.ord).toBeGreaterThan(destroy.ord as number);
    });

    it('identical handlers collapse into one; different ones each run, in key order', async () => {
      const runs: HandlerRun[] = [];
      await run(
        node('test_on_hangup', { n: 2 }, { _: node('test_on_hangup', { n: 2 }, { _: node('test_on_hangup', { n: 1 }) }) }),
        {},
        [],
        testRegistry(runs),
      );
      expect(runs.map((x) => x.key)).toEqual(['test_on_hangup:{"n":1}', 'test_on_hangup:{"n":2}']);
    });

    it("get KAZOO's defaults for what the switch did not say: a cause with no SIP code reads sip:600", async () => {
      const runs: HandlerRun[] = [];
      await run(node('test_on_hangup', {}, { _: node('test_wait') }), { max_call_s: 5 }, [], testRegistry(runs));
      // Never answered: the switch refuses the call rather than sending a BYE.
      expect(runs[0]!.final.hangup).toEqual({ disposition: 'send_refuse', cause: 'ALLOTTED_TIMEOUT', code: 'sip:600' });
    });

    it('see the caller hanging up, even when that ended the callflow early', async () => {
      const runs: HandlerRun[] = [];
      await run(node('test_on_hangup', {}, { _: node('test_sleep', { ms: 60_000 }) }), { caller: { hangup_at_s: 3 } }, [], testRegistry(runs));
      expect(runs).toHaveLength(1);
      expect(runs[0]!.final.hangup?.cause).toBe('ORIGINATOR_CANCEL');
      expect(runs[0]!.final.hangupBy).toBe('caller');
      expect(runs[0]!.final.durationMs).toBe(3000);
    });
  });
});

describe('executor: return points, child keys and the end of a wait', () => {
  it('stop returns to the most recent return point first: A→B→C stops, then B\'s "_", then A\'s "_"', async () => {
    // main (A) branches to B, B branches to C; each branching node has a "_" child, so two return
    // points are stacked. C stops: the inner-most (B's) must run before the outer one (A's).
    const r = await run(
      node('callflow', { id: 'B' }, { _: node('test_continue', { key: 'a-after' }) }),
      {},
      [
        callflow('B', node('callflow', { id: 'C' }, { _: node('test_continue', { key: 'b-after' }) })),
        callflow('C', node('test_stop')),
      ],
    );
    const steps = r.detail.steps;
    expect(steps.map((s) => [s.callflow_id, s.module])).toEqual([
      ['main', 'callflow'],
      ['B', 'callflow'],
      ['C', 'test_stop'],
      ['B', 'test_continue'],
      ['main', 'test_continue'],
    ]);
    expect(steps.map((s) => JSON.parse(s.data as string).key ?? null)).toEqual([null, null, null, 'b-after', 'a-after']);
    expect(steps[2]!.reason).toContain('stop: return to B/flow/children/_');
    expect(steps[3]!.reason).toContain('stop: return to main/flow/children/_');
    expect(r.summary.endReason).toBe('callflow_finished');
  });

  it('a child key named like an Object.prototype member (constructor, toString) is no child: "_" is taken', async () => {
    const r = await run(node('test_continue', { key: 'constructor' }, { _: node('test_continue') }));
    expect(path(r)).toEqual([
      ['test_continue', 'continue', '_'],
      ['test_continue', 'continue', null],
    ]);
    expect(r.detail.steps[0]!.reason).toContain('no child "constructor": fell back to "_"');

    const a = await run(node('test_attempt', { keys: ['toString', 'hasOwnProperty'] }, { _: node('test_continue') }));
    expect(path(a)).toEqual([
      ['test_attempt', 'attempt', '_'],
      ['test_continue', 'continue', null],
    ]);
    expect(a.detail.steps[0]!.reason).toContain('no child for "toString" or "hasOwnProperty"');
  });

  it('the channel going away while the executor waits ends the execution as channel_gone, with no hangup sent', async () => {
    const r = await run(node('test_wait'), { caller: { hangup_at_s: 30 } });
    expect(path(r)).toEqual([['test_wait', 'wait', null]]);
    expect(r.summary.endReason).toBe('channel_gone');
    expect(r.detail.execution.end_reason).toBe('channel_gone');
    expect(commands(r)).toEqual([]);
  });

  it('a module that chooses nothing after the channel is already gone: the wait ends at once as channel_gone', async () => {
    // The sleep is cut short by the caller's hangup; the module then returns wait() with the channel gone.
    const registry = testRegistry().register({
      name: 'test_sleep_then_wait',
      summary: 'sleeps, then chooses nothing',
      schema: { type: 'object' },
      async handle(_d: unknown, call) {
        await call.sleep(60_000);
        return next.wait();
      },
    });
    const r = await run(node('test_sleep_then_wait'), { caller: { hangup_at_s: 2 } }, [], registry);
    expect(path(r)).toEqual([['test_sleep_then_wait', 'wait', null]]);
    expect(r.summary.endReason).toBe('channel_gone');
    expect(r.summary.durationMs).toBe(2000);
    // The channel was gone when the executor ended: no hangup was queued to it.
    expect(commands(r)).toEqual(['sleep']);
  });

  it('an identical post-hangup handler registered again is collapsed, and the step log says so', async () => {
    const runs: HandlerRun[] = [];
    const r = await run(node('test_on_hangup', { n: 2 }, { _: node('test_on_hangup', { n: 2 }) }), {}, [], testRegistry(runs));
    const notesOf = (i: number) => JSON.parse(r.detail.steps[i]!.notes as string) as string[];
    expect(notesOf(0)).toEqual(['registered post-hangup handler test_on_hangup:{"n":2}']);
    expect(notesOf(1)).toEqual(['post-hangup handler test_on_hangup:{"n":2} already registered: collapsed into it']);
    expect(runs).toHaveLength(1);
    expect(r.detail.effects).toHaveLength(1);
  });
});
