import { describe, expect, it } from 'vitest';
import { dialStatus, planBridge } from '../integrations/simulator/bridge-plan.ts';
import { VirtualClock } from '../engine/virtual-clock.ts';
import { next } from '../engine/executor/next.ts';
import { createRegistry } from '../modules/index.ts';
import { account, callflow, simulate } from './support/sim.ts';
import type { CallControl } from '../engine/call/call-control.ts';

const ep = (deviceId: string, delaySeconds = 0, timeoutSeconds = 20) => ({ deviceId, username: deviceId, realm: 'r', delaySeconds, timeoutSeconds });

describe('virtual clock', () => {
  it('fires timers in due order, equal times in creation order, and skips cancelled ones', () => {
    const c = new VirtualClock(1000);
    const seen: string[] = [];
    c.setTimeout(() => seen.push('b@50'), 50);
    c.setTimeout(() => seen.push('a@10'), 10);
    const x = c.setTimeout(() => seen.push('cancelled'), 10);
    c.setTimeout(() => seen.push('c@10'), 10);
    c.clearTimeout(x);
    c.setTimeout(() => {
      seen.push('z@0');
      c.setTimeout(() => seen.push('z2@0'), 0);
    }, 0);
    while (c.advance());
    expect(seen).toEqual(['z@0', 'z2@0', 'a@10', 'c@10', 'b@50']);
    expect(c.now()).toBe(1050);
  });
});

describe('bridge planning', () => {
  it('simultaneous: first answer wins; all failing gives the last cause', () => {
    const plan = planBridge([ep('a'), ep('b')], 'simultaneous', 20, (id) => (id === 'a' ? { action: 'answer', after_s: 9 } : { action: 'answer', after_s: 4 }));
    expect(plan.result).toMatchObject({ kind: 'answer', atMs: 4000 });
    const fail = planBridge([ep('a'), ep('b')], 'simultaneous', 20, (id) => (id === 'a' ? { action: 'busy' } : { action: 'no_answer' }));
    expect(fail.result).toEqual({ kind: 'fail', cause: 'NO_ANSWER', atMs: 20000 });
  });
  it('an answer after the timeout is no answer', () => {
    const plan = planBridge([ep('a')], 'simultaneous', 5, () => ({ action: 'answer', after_s: 6 }));
    expect(plan.result).toEqual({ kind: 'fail', cause: 'NO_ANSWER', atMs: 5000 });
  });
  it('single: each leg gets its own timeout, in order', () => {
    const plan = planBridge([ep('a', 0, 5), ep('b', 0, 5), ep('c', 0, 5)], 'single', 5, (id) =>
      id === 'c' ? { action: 'answer', after_s: 1 } : id === 'a' ? { action: 'no_answer' } : { action: 'reject' },
    );
    expect(plan.result).toMatchObject({ kind: 'answer', atMs: 6000 });
  });
});

describe('simulated calls', () => {
  it('an hour-long call simulates in well under a second', async () => {
    const hourLong = () =>
      simulate({
        account: account([callflow('main', { module: 'user', data: { id: 'alice' } }, ['100'])]),
        scenario: { call: { from: '1', to: '100' }, max_call_s: 7200, devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3600 } } },
      });
    // The first run also compiles the schemas and opens the step log: time the second.
    await hourLong();
    const t0 = performance.now();
    const r = await hourLong();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.summary.durationMs).toBe(3_602_000);
    expect(r.summary.hangupBy).toBe('callee');
  });

  it('the switch ends a call nobody ends after max_call_s (ALLOTTED_TIMEOUT)', async () => {
    const r = await simulate({
      account: account([callflow('main', { module: 'test_wait', data: {} }, ['100'])]),
      scenario: { call: { from: '1', to: '100' }, max_call_s: 7200 },
    });
    expect(r.summary.hangupCause).toBe('ALLOTTED_TIMEOUT');
    expect(r.summary.hangupBy).toBe('switch');
    expect(r.summary.durationMs).toBe(7_200_000);
    // Never answered: no BYE (there is no dialog), the switch refuses the call.
    expect(r.detail.execution.disposition).toBe('send_refuse');
  });

  it('a key cuts a sleep short, as in the recorded FreeSWITCH call (extension 1002)', async () => {
    const r = await simulate({
      account: account([callflow('main', { module: 'test_sleep', data: { ms: 5000 } }, ['100'])]),
      scenario: { call: { from: '1', to: '100' }, caller: { dtmf: [{ digits: '1', at_s: 1 }] } },
    });
    const sleep = r.detail.steps[0]!;
    expect((sleep.ended_at as number) - (sleep.started_at as number)).toBe(1000);
  });

  it('a seed must fit the id generators (32 bits): a larger one is refused, not folded onto another', async () => {
    await expect(
      simulate({ account: account([callflow('main', { module: 'test_wait', data: {} }, ['100'])]), scenario: { call: { from: '1', to: '100' }, seed: 4294967297 } }),
    ).rejects.toThrow(/\/seed: must be <= 4294967295/);
  });

  it('plays prompts, takes DTMF at a time or on a prompt, and records for the scripted speech', async () => {
    const seen: Record<string, unknown> = {};
    const registry = createRegistry().register({
      name: 'probe',
      summary: 'exercises call control',
      schema: { type: 'object' },
      async handle(_d: unknown, call: CallControl) {
        await call.answer();
        seen.greeting = await call.playback('vm-greeting', { terminators: '#' });
        seen.digits = await call.collectDigits({ maxDigits: 3, timeoutMs: 5000, interdigitMs: 2000, terminators: '#' });
        await call.playback('tone_stream://%(500,100,440)');
        seen.recording = await call.record({ limitSeconds: 60 });
        return next.continue();
      },
    });
    const r = await simulate({
      registry,
      account: account([callflow('main', { module: 'probe', data: {} }, ['100'])]),
      scenario: {
        call: { from: '1', to: '100' },
        prompts: { default_s: 1, durations_s: { 'vm-greeting': 10 } },
        caller: {
          dtmf: [{ digits: '4', at_s: 12 }, { digits: '#', on_prompt: 'vm-greeting', after_s: 2 }],
          speaks_s: 5,
        },
      },
    });
    expect(seen.greeting).toEqual({ response: 'FILE PLAYED', terminator: '#' });
    // '#' cut the greeting at 2 s and is also queued; collection then stops on it with nothing.
    expect(seen.digits).toBe('');
    // Greeting cut at 2 s, beep 2-3 s, recording from 3 s until the caller presses 4 at 12 s.
    expect(seen.recording).toMatchObject({ recordMs: 9000, terminator: '4' });
    expect(r.detail.events.filter((e) => e.name === 'DTMF').map((e) => JSON.parse(e.headers as string)['DTMF-Digit'])).toEqual(['#', '4']);
  });
});

describe('the bridge result as FreeSWITCH reports it', () => {
  it('a bridge nobody answers completes with DIALSTATUS NOANSWER and the cause in the originate variables', async () => {
    const r = await simulate({
      account: account([callflow('main', { module: 'user', data: { id: 'alice', timeout: 5 }, children: { _: { module: 'test_wait', data: {} } } }, ['100'])]),
      scenario: { call: { from: '1', to: '100' }, caller: { hangup_at_s: 30 } },
    });
    const done = r.detail.events
      .filter((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE')
      .map((e) => JSON.parse(e.headers as string) as Record<string, string>)
      .find((h) => h['Application'] === 'bridge')!;
    expect(done).toMatchObject({
      variable_DIALSTATUS: 'NOANSWER',
      variable_originate_disposition: 'NO_ANSWER',
      variable_originate_failed_cause: 'NO_ANSWER',
      variable_last_bridge_proto_specific_hangup_cause: 'sip:480',
    });
  });

  it("DIALSTATUS for each failure cause (FreeSWITCH's originate)", () => {
    expect(dialStatus('NO_ANSWER')).toBe('NOANSWER');
    expect(dialStatus('NO_USER_RESPONSE')).toBe('NOANSWER');
    expect(dialStatus('USER_BUSY')).toBe('BUSY');
    expect(dialStatus('ORIGINATOR_CANCEL')).toBe('CANCEL');
    expect(dialStatus('USER_NOT_REGISTERED')).toBe('INVALIDARGS');
    expect(dialStatus('UNALLOCATED_NUMBER')).toBe('INVALIDARGS');
    expect(dialStatus('CALL_REJECTED')).toBe('CHANUNAVAIL');
    expect(dialStatus('NORMAL_TEMPORARY_FAILURE')).toBe('CHANUNAVAIL');
  });
});
