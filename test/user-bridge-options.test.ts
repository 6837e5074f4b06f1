import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallControl, PostHangupHandler } from '../engine/call/call-control.ts';
import { compareTerms, PostHangupHandlers } from '../engine/call/post-hangup.ts';
import { checkCallflow } from '../engine/documents/load.ts';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { next } from '../engine/executor/next.ts';
import type { CallflowModule } from '../engine/module.ts';
import { FixedClock, SeededIds } from '../engine/providers.ts';
import type { BridgeEndpoint } from '../engine/switch.ts';
import { planBridge } from '../integrations/simulator/bridge-plan.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { findExecution, loadExecution } from '../integrations/sqlite/trace-queries.ts';
import { createRegistry } from '../modules/index.ts';
import { userModule } from '../modules/user/index.ts';
import { runScenarioOverEslDetailed } from './support/esl-harness.ts';
import { testRegistry, type HandlerRun } from './support/test-modules.ts';
import { account, callflow, commands, path, simulate, tempDir, writeJson, type SimResult } from './support/sim.ts';

const node = (module: string, data: Record<string, unknown> = {}, children?: Record<string, unknown>) => ({
  module,
  data,
  ...(children ? { children } : {}),
});
const run = (flow: unknown, scenario: Record<string, unknown> = {}, extra: unknown[] = [], registry = testRegistry(), acc: Record<string, unknown> = {}) =>
  simulate({
    account: account([callflow('main', flow, ['100']), ...extra], acc),
    scenario: { call: { from: '200', to: '100' }, ...scenario },
    registry,
  });

describe('executor and user module', () => {
  it('hangup_by: after a bridged callee hung up and the callflow went on, the engine\'s later hangup is not "callee"', async () => {
    const runs: HandlerRun[] = [];
    // main branches into A (ring Alice); Alice answers at 2 s and hangs up at 5 s; the caller is
    // still there, so the branch returns to main's "_", which plays on for 10 s and then hangs
    // up with USER_BUSY. The callee left 11 s before the call ended: the engine ended it.
    const r = await run(
      node('test_on_hangup', {}, { _: node('callflow', { id: 'A' }, { _: node('test_sleep', { ms: 10_000 }, { _: node('test_stop', { cause: 'USER_BUSY' }) }) }) }),
      { devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3 } } },
      [callflow('A', node('user', { id: 'alice' }))],
      testRegistry(runs),
    );
    expect(path(r).map((p) => p[0])).toEqual(['test_on_hangup', 'callflow', 'user', 'test_sleep', 'test_stop']);
    expect(r.summary.hangupCause).toBe('USER_BUSY');
    expect(r.summary.durationMs).toBe(15_000);
    expect(r.summary.hangupBy).toBe('engine');
    expect(runs[0]!.final.hangupBy).toBe('engine');
  });

  it('hangup_by: the switch cutting the call long after the callee left is "switch", not "callee"', async () => {
    const r = await run(
      node('callflow', { id: 'A' }, { _: node('test_wait') }),
      { devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3 } }, max_call_s: 60 },
      [callflow('A', node('user', { id: 'alice' }))],
    );
    expect(r.summary.hangupCause).toBe('ALLOTTED_TIMEOUT');
    expect(r.summary.hangupBy).toBe('switch');
  });

  it('fail_on_single_reject (accepted by the schema): the first reject fails the whole bridge', async () => {
    // kazoo-semantics c.2: fail_on_single_reject = "the first reject cancels every leg".
    const r = await run(
      node('user', { id: 'alice', fail_on_single_reject: true }, { CALL_REJECTED: node('test_continue'), _: node('test_wait') }),
      {
        devices: { 'alice-desk': { action: 'reject' }, 'alice-soft': { action: 'answer', after_s: 3, hangup_after_s: 5 } },
        caller: { hangup_at_s: 60 },
      },
    );
    expect(path(r)[0]).toEqual(['user', 'attempt', 'CALL_REJECTED']);
    expect(r.detail.execution.call_bridged).toBe(0);
  });

  it('a failed bridge with no Hangup-Code attempts "sip:600" (KAZOO get_call_termination_reason default)', async () => {
    const call = {
      info: { callId: 'c', callerNumber: '1', callerName: '1', calleeNumber: '2', captureGroups: {} },
      account: {
        user: (id: string) => ({ id }),
        devicesOwnedBy: () => [{ id: 'd1', owner_id: 'alice', sip: { username: 'd1' } }],
        realm: 'r.local',
      },
      note: () => {},
      bridge: async () => ({ result: 'failed', cause: 'USER_NOT_REGISTERED', sipCode: null }),
    } as unknown as CallControl;
    const out = await userModule.handle({ id: 'alice', timeout: 20, delay: 0, strategy: 'simultaneous', can_call_self: false }, call);
    expect(out).toMatchObject({ kind: 'attempt', keys: ['USER_NOT_REGISTERED', 'sip:600'] });
  });

  it('post-hangup handlers run in KAZOO term order (usort): data {n: 9} before {n: 10}', async () => {
    // kazoo-semantics (b) Termination: add_termination_handler is a usort, handlers run "in sorted term
    // order". Erlang compares numbers numerically (9 < 10) and binaries bytewise (<<"a">> < <<"a b">>);
    // the engine sorts the canonical JSON text, where "10" < "9" and '"' (0x22) > ' ' (0x20).
    const runs: HandlerRun[] = [];
    await run(node('test_on_hangup', { n: 9 }, { _: node('test_on_hangup', { n: 10 }) }), {}, [], testRegistry(runs));
    expect(runs.map((x) => x.key)).toEqual(['test_on_hangup:{"n":9}', 'test_on_hangup:{"n":10}']);
    const runs2: HandlerRun[] = [];
    await run(node('test_on_hangup', { t: 'a' }, { _: node('test_on_hangup', { t: 'a b' }) }), {}, [], testRegistry(runs2));
    expect(runs2.map((x) => x.key)).toEqual(['test_on_hangup:{"t":"a"}', 'test_on_hangup:{"t":"a b"}']);
  });
});

const bridgeArgs = (r: SimResult) => {
  const c = r.detail.commands.find((x) => x.app === 'bridge');
  return c ? (JSON.parse(c.args as string) as Record<string, unknown>) : undefined;
};
const bridgeRow = (r: SimResult) => r.detail.commands.find((x) => x.app === 'bridge')!;
const eventsAt = (r: SimResult, name: string) =>
  r.detail.events.filter((e) => e.name === name).map((e) => (e.at as number) - r.detail.execution.started_at);
const ep = (deviceId: string, delaySeconds = 0, timeoutSeconds = 20): BridgeEndpoint => ({ deviceId, username: deviceId, realm: 'r', delaySeconds, timeoutSeconds });
const threeDevices = {
  devices: [
    { id: 'alice-desk', owner_id: 'alice', sip: { username: 'alice-desk' } },
    { id: 'alice-soft', owner_id: 'alice', sip: { username: 'alice-soft' } },
    { id: 'alice-cell', owner_id: 'alice', sip: { username: 'alice-cell' } },
  ],
};

describe('hangup_by after a callee left', () => {
  it('is still "callee" when no node started after the bridge (the callflow ends there)', async () => {
    const r = await run(node('user', { id: 'alice' }), { devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3 } } });
    expect(r.summary.hangupBy).toBe('callee');
  });

  it('is the caller\'s when the caller hangs up after the callflow went on', async () => {
    const r = await run(
      node('callflow', { id: 'A' }, { _: node('test_wait') }),
      { devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3 } }, caller: { hangup_at_s: 30 } },
      [callflow('A', node('user', { id: 'alice' }))],
    );
    expect(r.summary.hangupBy).toBe('caller');
  });
});

describe('fail_on_single_reject', () => {
  it('simultaneous: the plan ends at the refusal; ringing legs are cancelled then, legs not yet started are left out', () => {
    const behaviours = { a: { action: 'answer' as const, after_s: 9 }, b: { action: 'busy' as const }, c: { action: 'answer' as const, after_s: 1 } };
    const endpoints = [ep('a'), ep('b', 4), ep('c', 6)];
    const plan = planBridge(endpoints, 'simultaneous', 20, (id) => behaviours[id as 'a'], { failOnSingleReject: true });
    expect(plan.result).toEqual({ kind: 'fail', cause: 'USER_BUSY', atMs: 4000 });
    expect(plan.legs.map((l) => [l.endpoint.deviceId, l.atMs, l.cause ?? null])).toEqual([
      ['a', 4000, 'ORIGINATOR_CANCEL'],
      ['b', 4000, 'USER_BUSY'],
    ]);
    // Without the flag the refusal changes nothing: c answers at 7 s.
    expect(planBridge(endpoints, 'simultaneous', 20, (id) => behaviours[id as 'a']).result).toMatchObject({ kind: 'answer', atMs: 7000 });
    // A refusal after the answer, or ringing out (NO_ANSWER), is no reject.
    const late = planBridge([ep('a'), ep('b', 4)], 'simultaneous', 20, (id) => (id === 'a' ? { action: 'answer', after_s: 2 } : { action: 'reject' }), { failOnSingleReject: true });
    expect(late.result).toMatchObject({ kind: 'answer', atMs: 2000 });
    const ringOut = planBridge([ep('a', 0, 5), ep('b')], 'simultaneous', 20, (id) => (id === 'a' ? { action: 'no_answer' } : { action: 'answer', after_s: 8 }), { failOnSingleReject: true });
    expect(ringOut.result).toMatchObject({ kind: 'answer', atMs: 8000 });
  });

  it('single: the first refusal ends the bridge and the next devices are never tried (nor planned)', () => {
    const behaviour = (id: string) => (id === 'a' ? { action: 'no_answer' as const } : id === 'b' ? { action: 'unregistered' as const } : { action: 'answer' as const, after_s: 1 });
    const plan = planBridge([ep('a', 0, 5), ep('b', 0, 5), ep('c', 0, 5)], 'single', 5, behaviour, { failOnSingleReject: true });
    expect(plan.result).toEqual({ kind: 'fail', cause: 'USER_NOT_REGISTERED', atMs: 5000 });
    expect(plan.legs.map((l) => l.endpoint.deviceId)).toEqual(['a', 'b']);
    expect(planBridge([ep('a', 0, 5), ep('b', 0, 5), ep('c', 0, 5)], 'single', 5, behaviour).result).toMatchObject({ kind: 'answer', atMs: 6000 });
  });

  it('single strategy over the simulator: a busy second device fails the bridge at once, the third never rings', async () => {
    const devices = { 'alice-desk': { action: 'no_answer' }, 'alice-soft': { action: 'busy' }, 'alice-cell': { action: 'answer', after_s: 1, hangup_after_s: 5 } };
    const flow = (flag: boolean) =>
      node('user', { id: 'alice', strategy: 'single', timeout: 5, ...(flag ? { fail_on_single_reject: true } : {}) }, { USER_BUSY: node('test_continue'), _: node('test_wait') });
    const r = await run(flow(true), { devices, caller: { hangup_at_s: 60 } }, [], testRegistry(), threeDevices);
    expect(path(r)[0]).toEqual(['user', 'attempt', 'USER_BUSY']);
    expect(bridgeArgs(r)).toMatchObject({ strategy: 'single', failOnSingleReject: true });
    const row = bridgeRow(r);
    expect((row.completed_at as number) - (row.at as number)).toBe(5000);
    expect(r.detail.execution.call_bridged).toBe(0);
    expect(eventsAt(r, 'CHANNEL_BRIDGE')).toEqual([]);
    expect(eventsAt(r, 'CHANNEL_PROGRESS')).toEqual([0]);
    // Without the flag the cell phone is tried and answers.
    const plain = await run(flow(false), { devices, caller: { hangup_at_s: 60 } }, [], testRegistry(), threeDevices);
    expect(path(plain)[0]).toEqual(['user', 'stop', null]);
    expect(eventsAt(plain, 'CHANNEL_BRIDGE')).toEqual([6000]);
    expect(bridgeArgs(plain)).not.toHaveProperty('failOnSingleReject');
  });

  it('simultaneous over the simulator: no ringing is reported when the refusal comes first', async () => {
    const r = await run(node('user', { id: 'alice', fail_on_single_reject: true }, { CALL_REJECTED: node('test_continue'), _: node('test_wait') }), {
      devices: { 'alice-desk': { action: 'reject' }, 'alice-soft': { action: 'answer', after_s: 3 } },
      caller: { hangup_at_s: 60 },
    });
    expect(eventsAt(r, 'CHANNEL_PROGRESS')).toEqual([]);
    const row = bridgeRow(r);
    expect((row.completed_at as number) - (row.at as number)).toBe(0);
  });
});

describe('custom_sip_headers', () => {
  it('the simulator has no SIP: the headers are in the bridge command args the step log keeps', async () => {
    const headers = { 'X-Account': 'acc-1', 'X-Info': 'a b <sip:x@y>;tag=1' };
    const r = await run(node('user', { id: 'alice', custom_sip_headers: headers }), { devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3 } } });
    expect(bridgeArgs(r)).toMatchObject({ customSipHeaders: headers });
    expect(path(r)[0]).toEqual(['user', 'stop', null]);
    // A plain bridge's args are as before: no new keys.
    const plain = await run(node('user', { id: 'alice', custom_sip_headers: {} }));
    expect(Object.keys(bridgeArgs(plain)!).sort()).toEqual(['continueOnFail', 'endpoints', 'ignoreEarlyMedia', 'strategy', 'timeoutSeconds']);
  });

  it('a bad header name or value, or a non-boolean fail_on_single_reject, is a load error at its pointer', () => {
    const check = (data: Record<string, unknown>) => {
      const r = checkCallflow(callflow('cf', node('user', { id: 'alice', ...data })), 'cf.json', '', { registry: createRegistry(), validator: new SchemaValidator() });
      return r.ok ? [] : r.errors.map((e) => e.message);
    };
    expect(check({ custom_sip_headers: { 'X-Ok': 'fine <sip:a@b>;x=1' }, fail_on_single_reject: true })).toEqual([]);
    expect(check({ custom_sip_headers: { 'X Bad': 'v' } })[0]).toBe(
      'cf.json: /flow/data/custom_sip_headers: must be a SIP header name (letters, digits and "-") (got {"X Bad":"v"})',
    );
    for (const bad of ['a,b', 'a}b', 'a]b', "it's", 'say "hi"', 'a\\b', 'x${y}', 'a|b', 'a:_:b', 'a\nb', ' lead', '']) {
      const errors = check({ custom_sip_headers: { 'X-Ok': bad } });
      expect(errors, JSON.stringify(bad)).toHaveLength(1);
      expect(errors[0]).toMatch(/^cf\.json: \/flow\/data\/custom_sip_headers\/X-Ok: must be a header value without quotes/);
    }
    expect(check({ custom_sip_headers: { 'X-Ok': 5 } })).toEqual(['cf.json: /flow/data/custom_sip_headers/X-Ok: must be string (got 5)']);
    expect(check({ fail_on_single_reject: 'yes' })).toEqual(['cf.json: /flow/data/fail_on_single_reject: must be boolean (got "yes")']);
  });

  /** A callflow over the FreeSWITCH driver and the ESL peer; returns the step log and the sendmsgs the peer got. */
  async function overEsl(flow: unknown, registry = testRegistry()) {
    const dir = tempDir('cf-esl-hdr-');
    writeJson(join(dir, 'account.json'), account([callflow('main', flow, ['100'])]));
    const file = writeJson(join(dir, 'scenario.json'), {
      name: 'headers',
      account: 'account.json',
      call: { from: '200', to: '100' },
      devices: { 'alice-desk': { action: 'answer', after_s: 2, hangup_after_s: 3 } },
    });
    const loaded = loadScenario(file, { registry, validator: new SchemaValidator() });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
    const db = openDatabase(join(dir, 'trace.db'));
    const run = await runScenarioOverEslDetailed(loaded.value, {
      registry,
      sink: new SqliteTraceSink(db),
      wallClock: new FixedClock(1_700_000_000_000),
      executionIds: new SeededIds(7),
      recordingDir: join(dir, 'recordings'),
    });
    const found = findExecution(db, run.summary.id);
    if (!found.ok) throw new Error(found.problem);
    // `<app> <argument>` for each sendmsg the peer received.
    const sendmsgs = run.commands
      .filter((c) => c.startsWith('sendmsg'))
      .map((c) => {
        const [head, body = ''] = c.split('\n\n');
        const app = /execute-app-name: (.*)/.exec(head!)?.[1] ?? 'hangup';
        return body ? `${app} ${body}` : app;
      });
    return { detail: loadExecution(db, found.execution), sendmsgs };
  }

  it('over FreeSWITCH: fail_on_single_reject and sip_h_<Name> go into the dial string\'s global {} part', async () => {
    const r = await overEsl(node('user', { id: 'alice', fail_on_single_reject: true, custom_sip_headers: { 'X-Account': 'acc-1', 'X-Info': 'a b' } }));
    expect(r.sendmsgs).toContain(
      'bridge {ignore_early_media=true,originate_timeout=20,fail_on_single_reject=true,sip_h_X-Account=acc-1,sip_h_X-Info=a b}[leg_timeout=20]user/alice-desk@test.local,[leg_timeout=20]user/alice-soft@test.local',
    );
  });

  it('over FreeSWITCH: a value that would break the dial string fails the bridge as an error with the reason, and never reaches the switch', async () => {
    // A module that skips the user schema (a library caller): the driver still refuses.
    const evil: CallflowModule<Record<string, unknown>> = {
      name: 'test_bridge_headers',
      summary: 'bridges with whatever headers it is given',
      schema: { type: 'object' },
      async handle(d, call) {
        const outcome = await call.bridge(
          [{ deviceId: 'alice-desk', username: 'alice-desk', realm: 'test.local', delaySeconds: 0, timeoutSeconds: 20 }],
          { timeoutSeconds: 20, strategy: 'simultaneous', ignoreEarlyMedia: true, customSipHeaders: d.headers as Record<string, string> },
        );
        call.note(JSON.stringify(outcome));
        return next.continue('_');
      },
    };
    const r = await overEsl(node('test_bridge_headers', { headers: { 'X-Evil': 'a},user/bob@evil' } }), testRegistry().register(evil));
    // Nothing of the bridge was sent, not even the driver's own setup of the channel.
    expect(r.sendmsgs.filter((m) => /^bridge|continue_on_fail/.test(m))).toEqual([]);
    const row = r.detail.commands.find((c) => c.app === 'bridge')!;
    expect(row).toMatchObject({ ack: '-ERR custom SIP header X-Evil: contains "}", which would change the dial string', error_kind: 'command_rejected' });
    expect(JSON.parse(r.detail.steps[0]!.notes as string)).toEqual([
      '{"result":"error","reason":"bridge rejected by the switch: custom SIP header X-Evil: contains \\"}\\", which would change the dial string"}',
    ]);
  });
});

describe('post-hangup run order (Erlang term order)', () => {
  it('number < atom < object (a 1-tuple) < array (a list) < string; strings bytewise, a prefix first', () => {
    const sorted = ['b', 'a b', 'a', [2], [1, 2], [], { b: 1 }, { a: 2 }, { a: 1, b: 1 }, {}, true, null, false, 10, 9, -1.5];
    expect([...sorted].sort(compareTerms)).toEqual([-1.5, 9, 10, false, null, true, {}, { a: 1, b: 1 }, { a: 2 }, { b: 1 }, [], [1, 2], [2], 'a', 'a b', 'b']);
    // Bytewise (UTF-8), not UTF-16: U+FF5E sorts before U+1F600 (a surrogate pair in JavaScript).
    expect(compareTerms('\uff5e', '\u{1f600}')).toBeLessThan(0);
    // Object keys are compared in canonical (sorted) order, whatever order they were written in.
    expect(compareTerms({ b: 1, a: 2 }, { a: 2, b: 1 })).toBe(0);
    expect(compareTerms({ '9': 1 }, { '10': 1 })).toBeGreaterThan(0);
  });

  it('module name first, then data; the key stays the identity', () => {
    const h = (module: string, data: unknown): PostHangupHandler => ({ key: `${module}:${JSON.stringify(data)}`, module, run: async () => ({}) });
    const set = new PostHangupHandlers();
    for (const x of [h('notification', { n: 10 }), h('alert', { n: 10 }), h('notification', { n: 9 }), h('notification', { n: 9 })]) set.add(x);
    expect(set.inRunOrder().map((x) => x.key)).toEqual(['alert:{"n":10}', 'notification:{"n":9}', 'notification:{"n":10}']);
  });
});
