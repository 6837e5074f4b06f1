import { describe, expect, it } from 'vitest';
import { AccountView } from '../engine/call/account-view.ts';
import { userEndpoints } from '../modules/user/endpoints.ts';
import { account, callflow, path, simulate, type SimResult } from './support/sim.ts';

const userNode = (data: Record<string, unknown>, children: Record<string, unknown> = { _: { module: 'test_continue', data: {} } }) => ({
  module: 'user',
  data: { id: 'alice', ...data },
  children,
});

const run = (flow: unknown, scenario: Record<string, unknown> = {}, accountOverrides: Record<string, unknown> = {}) =>
  simulate({
    account: account([callflow('main', flow, ['100'])], accountOverrides),
    scenario: { call: { from: '200', to: '100' }, ...scenario },
  });

const bridge = (r: SimResult) => {
  const c = r.detail.commands.find((x) => x.app === 'bridge');
  return c ? (JSON.parse(c.args as string) as { endpoints: { deviceId: string; delaySeconds: number; timeoutSeconds: number }[]; strategy: string; timeoutSeconds: number }) : undefined;
};
const rung = (r: SimResult) => bridge(r)?.endpoints.map((e) => e.deviceId);
const notes = (r: SimResult) => JSON.parse(r.detail.steps[0]!.notes as string) as string[];
const eventAt = (r: SimResult, name: string) => {
  const e = r.detail.events.find((x) => x.name === name);
  return e ? (e.at as number) - r.detail.execution.started_at : undefined;
};

describe('user module (KAZOO cf_user)', () => {
  it("rings only the user's own devices", async () => {
    const r = await run(userNode({}));
    expect(rung(r)).toEqual(['alice-desk', 'alice-soft']);
  });

  it('leaves out disabled and do-not-disturb devices, and everything of a DND user', async () => {
    const devices = [
      { id: 'alice-desk', owner_id: 'alice', enabled: false, sip: { username: 'a1' } },
      { id: 'alice-soft', owner_id: 'alice', do_not_disturb: { enabled: true }, sip: { username: 'a2' } },
      { id: 'alice-cell', owner_id: 'alice', sip: { username: 'a3' } },
    ];
    const r = await run(userNode({}), {}, { devices });
    expect(rung(r)).toEqual(['alice-cell']);
    expect(notes(r)).toContain('skipped alice-desk: disabled');
    expect(notes(r)).toContain('skipped alice-soft: do not disturb');

    const users = [{ id: 'alice', do_not_disturb: { enabled: true } }, { id: 'bob' }];
    const dnd = await run(userNode({}), {}, { users, devices });
    expect(bridge(dnd)).toBeUndefined();
    expect(path(dnd)[0]).toEqual(['user', 'continue', '_']);
  });

  it("does not ring the caller's own devices unless can_call_self", async () => {
    // The caller is Alice's desk phone: her softphone is hers too (owner called self).
    const self = await run(userNode({}), { call: { from: '200', to: '100', device: 'alice-desk' } });
    expect(bridge(self)).toBeUndefined();
    expect(notes(self)).toEqual(['skipped alice-desk: owner called self', 'skipped alice-soft: owner called self']);

    const allowed = await run(userNode({ can_call_self: true }), { call: { from: '200', to: '100', device: 'alice-desk' } });
    expect(rung(allowed)).toEqual(['alice-desk', 'alice-soft']);
  });

  it('endpoint called self: the calling device itself is left out even when the owner differs', () => {
    // KAZOO's owner_id can differ from the device's owner (hot-desking); the device rule stands alone.
    const view = new AccountView({
      file: 'x',
      account: { id: 'a', name: 'a', realm: 'r.local', timezone: 'UTC' },
      users: [{ id: 'alice' }],
      devices: [
        { id: 'alice-desk', owner_id: 'alice', sip: { username: 'a1' } },
        { id: 'alice-soft', owner_id: 'alice', sip: { username: 'a2' } },
      ],
      vmboxes: [],
      notificationTemplates: [],
      callflows: [],
    });
    const info = { callId: 'c', callerNumber: '1', callerName: '1', calleeNumber: '2', authorizingId: 'alice-desk', captureGroups: {} };
    const data = { id: 'alice', timeout: 20, delay: 0, strategy: 'simultaneous' as const, can_call_self: false };
    const built = userEndpoints(data, info, view);
    expect(built.endpoints.map((e) => e.deviceId)).toEqual(['alice-soft']);
    expect(built.skipped).toEqual(['alice-desk: endpoint called self']);
    expect(userEndpoints({ ...data, can_call_self: true }, info, view).endpoints).toHaveLength(2);
    // Endpoints carry the account realm when the device has none: it goes into the dial string.
    expect(built.endpoints[0]).toMatchObject({ username: 'a2', realm: 'r.local', timeoutSeconds: 20, delaySeconds: 0 });
  });

  it('simultaneous rings every device at once; the first to answer wins', async () => {
    const r = await run(userNode({ strategy: 'simultaneous' }), {
      devices: { 'alice-desk': { action: 'answer', after_s: 6 }, 'alice-soft': { action: 'answer', after_s: 3, hangup_after_s: 10 } },
    });
    expect(bridge(r)?.strategy).toBe('simultaneous');
    expect(eventAt(r, 'CHANNEL_BRIDGE')).toBe(3000);
    expect(r.summary.hangupBy).toBe('callee');
  });

  it('single rings one device after another, each for the timeout', async () => {
    const r = await run(userNode({ strategy: 'single', timeout: 5 }), {
      devices: { 'alice-desk': { action: 'no_answer' }, 'alice-soft': { action: 'answer', after_s: 2, hangup_after_s: 1 } },
    });
    expect(bridge(r)?.strategy).toBe('single');
    expect(eventAt(r, 'CHANNEL_BRIDGE')).toBe(7000);
  });

  it('timeout: nobody answers, the bridge fails with NO_ANSWER after `timeout` seconds', async () => {
    const r = await run(userNode({ timeout: 12 }));
    expect(bridge(r)?.timeoutSeconds).toBe(12);
    expect(eventAt(r, 'CHANNEL_EXECUTE_COMPLETE')).toBe(12_000);
    expect(path(r)[0]).toEqual(['user', 'attempt', '_']);
    expect(r.detail.steps[0]!.requested_key).toBe('NO_ANSWER,sip:480');
  });

  describe('the engine waits for a bridge as long as the switch can ring it, plus 20 s', () => {
    const t = (module: string) => ({ module, data: {} });
    const giveUp = (r: SimResult) => r.detail.commands.find((c) => c.app === 'bridge')?.error_kind ?? null;

    it('timeout 0: the switch rings for its own 60 s, and the failure takes the NO_ANSWER child', async () => {
      const r = await run(userNode({ timeout: 0 }, { NO_ANSWER: t('test_continue'), _: t('test_wait') }), { caller: { hangup_at_s: 300 } });
      expect(path(r)[0]).toEqual(['user', 'attempt', 'NO_ANSWER']);
      expect(eventAt(r, 'CHANNEL_EXECUTE_COMPLETE')).toBe(60_000);
      expect(giveUp(r)).toBeNull();
    });

    it('timeout 0: a device answering at 30 s is bridged, and "_" never runs', async () => {
      const r = await run(userNode({ timeout: 0 }), { devices: { 'alice-desk': { action: 'answer', after_s: 30, hangup_after_s: 10 } } });
      expect(path(r)).toEqual([['user', 'stop', null]]);
      expect(eventAt(r, 'CHANNEL_BRIDGE')).toBe(30_000);
    });

    it('single with a delay: every leg rings after its delay, one after another (3 x (10 + 20) s)', async () => {
      const devices = ['a1', 'a2', 'a3'].map((id) => ({ id, owner_id: 'alice', sip: { username: id } }));
      const r = await run(
        userNode({ strategy: 'single', delay: 10, timeout: 20 }, { NO_ANSWER: t('test_continue'), _: t('test_wait') }),
        { caller: { hangup_at_s: 300 } },
        { devices },
      );
      expect(path(r)[0]).toEqual(['user', 'attempt', 'NO_ANSWER']);
      expect(eventAt(r, 'CHANNEL_EXECUTE_COMPLETE')).toBe(90_000);
      expect(giveUp(r)).toBeNull();
    });
  });

  it('delay: each device starts ringing `delay` seconds late', async () => {
    const r = await run(userNode({ delay: 4 }), { devices: { 'alice-desk': { action: 'answer', after_s: 1, hangup_after_s: 1 } } });
    expect(bridge(r)?.endpoints.every((e) => e.delaySeconds === 4)).toBe(true);
    expect(eventAt(r, 'CHANNEL_PROGRESS')).toBe(4000);
    expect(eventAt(r, 'CHANNEL_BRIDGE')).toBe(5000);
  });

  it('an answered bridge ends the callflow: the "_" child does not run', async () => {
    const r = await run(userNode({}), { devices: { 'alice-desk': { action: 'answer', after_s: 1, hangup_after_s: 60 } } });
    expect(path(r)).toEqual([['user', 'stop', null]]);
    expect(r.summary.endReason).toBe('stopped');
    expect(r.detail.execution.call_bridged).toBe(1);
    expect(r.summary.durationMs).toBe(61_000);
  });

  describe('a failed bridge branches by hangup cause, then SIP code, then "_"', () => {
    const busy = { devices: { 'alice-desk': { action: 'busy' }, 'alice-soft': { action: 'busy' } } };
    const t = (module: string) => ({ module, data: {} });

    it('by cause', async () => {
      const r = await run(userNode({}, { USER_BUSY: t('test_continue'), 'sip:486': t('test_stop'), _: t('test_wait') }), busy);
      expect(path(r)[0]).toEqual(['user', 'attempt', 'USER_BUSY']);
    });
    it('then by SIP code', async () => {
      const r = await run(userNode({}, { 'sip:486': t('test_continue'), _: t('test_wait') }), busy);
      expect(path(r)[0]).toEqual(['user', 'attempt', 'sip:486']);
    });
    it('then "_"', async () => {
      const r = await run(userNode({}, { NO_ANSWER: t('test_stop'), _: t('test_continue') }), busy);
      expect(path(r)[0]).toEqual(['user', 'attempt', '_']);
      expect(r.detail.steps[0]!.reason).toContain('bridge failed: USER_BUSY (sip:486)');
    });
    it('rejected and unregistered devices give their own causes', async () => {
      const rej = await run(userNode({}, { CALL_REJECTED: t('test_continue') }), {
        devices: { 'alice-desk': { action: 'reject' }, 'alice-soft': { action: 'reject' } },
      });
      expect(path(rej)[0]).toEqual(['user', 'attempt', 'CALL_REJECTED']);
      const unreg = await run(userNode({}, { USER_NOT_REGISTERED: t('test_continue') }), {
        devices: { 'alice-desk': { action: 'unregistered' }, 'alice-soft': { action: 'unregistered' } },
      });
      expect(path(unreg)[0]).toEqual(['user', 'attempt', 'USER_NOT_REGISTERED']);
      expect(eventAt(unreg, 'CHANNEL_EXECUTE_COMPLETE')).toBe(0);
    });
  });

  it('no endpoints: "_" at once, nothing is rung', async () => {
    const r = await run(userNode({ id: 'nobody' }));
    expect(bridge(r)).toBeUndefined();
    expect(path(r)[0]).toEqual(['user', 'continue', '_']);
    expect(r.detail.steps[0]!.ended_at).toBe(r.detail.steps[0]!.started_at);
    expect(notes(r)).toEqual(['skipped no user "nobody"']);
  });

  it('the caller hanging up while it rings cancels the bridge (ORIGINATOR_CANCEL)', async () => {
    const r = await run(userNode({}), { caller: { hangup_at_s: 4 } });
    expect(r.summary.hangupCause).toBe('ORIGINATOR_CANCEL');
    expect(r.summary.hangupBy).toBe('caller');
    expect(r.summary.endReason).toBe('channel_gone');
    expect(r.detail.steps).toHaveLength(1);
  });
});

describe('user module: the user doc, device realms and early media', () => {
  it('a disabled user (enabled: false) rings nothing: "_" at once, and the step log says why', async () => {
    const users = [{ id: 'alice', enabled: false }, { id: 'bob' }];
    const r = await run(userNode({}), { devices: { 'alice-desk': { action: 'answer', after_s: 1, hangup_after_s: 5 } } }, { users });
    expect(bridge(r)).toBeUndefined();
    expect(r.detail.commands.map((c) => c.app)).toEqual(['hangup']);
    expect(path(r)[0]).toEqual(['user', 'continue', '_']);
    expect(r.detail.steps[0]!.ended_at).toBe(r.detail.steps[0]!.started_at);
    expect(notes(r)).toEqual(['skipped user alice is disabled']);
    expect(r.detail.execution.call_bridged).toBe(0);
  });

  it("a device's own sip.realm goes into its endpoint; a device without one gets the account realm", async () => {
    const devices = [
      { id: 'alice-desk', owner_id: 'alice', sip: { username: 'alice-desk', realm: 'branch.example.net' } },
      { id: 'alice-soft', owner_id: 'alice', sip: { username: 'alice-soft' } },
    ];
    const r = await run(userNode({}), {}, { devices });
    const eps = bridge(r)!.endpoints as unknown as { deviceId: string; username: string; realm: string }[];
    expect(eps.map((e) => [e.deviceId, e.username, e.realm])).toEqual([
      ['alice-desk', 'alice-desk', 'branch.example.net'],
      ['alice-soft', 'alice-soft', 'test.local'],
    ]);
  });

  it('ignore_early_media is asked for with simultaneous only: single lets early media through', async () => {
    const single = await run(userNode({ strategy: 'single' }));
    expect(bridge(single)).toMatchObject({ strategy: 'single', ignoreEarlyMedia: false });
    const simultaneous = await run(userNode({ strategy: 'simultaneous' }));
    expect(bridge(simultaneous)).toMatchObject({ strategy: 'simultaneous', ignoreEarlyMedia: true });
  });
});

describe('user module: ties at the edges of the bridge timing', () => {
  const t = (module: string) => ({ module, data: {} });
  const byCause = { NO_ANSWER: t('test_continue'), USER_BUSY: t('test_continue'), CALL_REJECTED: t('test_continue'), _: t('test_wait') };

  it('a delay equal to the timeout: the devices never start, so even busy ones fail as NO_ANSWER, with no ringing', async () => {
    const r = await run(userNode({ delay: 5, timeout: 5 }, byCause), {
      devices: { 'alice-desk': { action: 'busy' }, 'alice-soft': { action: 'busy' } },
      caller: { hangup_at_s: 60 },
    });
    expect(path(r)[0]).toEqual(['user', 'attempt', 'NO_ANSWER']);
    expect(r.detail.steps[0]!.requested_key).toBe('NO_ANSWER,sip:480');
    expect(eventAt(r, 'CHANNEL_PROGRESS')).toBeUndefined();
    expect(eventAt(r, 'CHANNEL_EXECUTE_COMPLETE')).toBe(5000);
  });

  it('a device answering at exactly the timeout is too late: NO_ANSWER, never bridged', async () => {
    const r = await run(userNode({ timeout: 5 }, byCause), {
      devices: { 'alice-desk': { action: 'answer', after_s: 5, hangup_after_s: 10 } },
      caller: { hangup_at_s: 60 },
    });
    expect(path(r)[0]).toEqual(['user', 'attempt', 'NO_ANSWER']);
    expect(eventAt(r, 'CHANNEL_BRIDGE')).toBeUndefined();
    expect(r.detail.execution.call_bridged).toBe(0);
    expect(eventAt(r, 'CHANNEL_EXECUTE_COMPLETE')).toBe(5000);
  });

  it('every device failing at the same moment: the last of them in endpoint order gives the cause', async () => {
    const r = await run(userNode({}, byCause), {
      devices: { 'alice-desk': { action: 'busy' }, 'alice-soft': { action: 'reject' } },
      caller: { hangup_at_s: 60 },
    });
    expect(path(r)[0]).toEqual(['user', 'attempt', 'CALL_REJECTED']);
    expect(r.detail.steps[0]!.requested_key).toBe('CALL_REJECTED,sip:603');
  });

  it('fail_on_single_reject: a refusal at the same moment as an answer does not beat it, the call is answered', async () => {
    const r = await run(userNode({ fail_on_single_reject: true }, byCause), {
      devices: { 'alice-desk': { action: 'answer', after_s: 0, hangup_after_s: 4 }, 'alice-soft': { action: 'reject' } },
    });
    expect(path(r)).toEqual([['user', 'stop', null]]);
    expect(eventAt(r, 'CHANNEL_BRIDGE')).toBe(0);
    expect(r.detail.execution.call_bridged).toBe(1);
    expect(r.summary.durationMs).toBe(4000);
  });

  it('two devices answering at the same moment: the first in endpoint order is the one bridged', async () => {
    // Which leg won shows in how long the call lasts: each device hangs up after its own time.
    const r = await run(userNode({}), {
      devices: { 'alice-desk': { action: 'answer', after_s: 3, hangup_after_s: 10 }, 'alice-soft': { action: 'answer', after_s: 3, hangup_after_s: 20 } },
    });
    expect(eventAt(r, 'CHANNEL_BRIDGE')).toBe(3000);
    expect(r.summary.durationMs).toBe(13_000);
  });

  it('fail_on_single_reject: two refusals at the same moment: the first in endpoint order gives the cause', async () => {
    const r = await run(userNode({ fail_on_single_reject: true }, byCause), {
      devices: { 'alice-desk': { action: 'busy' }, 'alice-soft': { action: 'reject' } },
      caller: { hangup_at_s: 60 },
    });
    expect(path(r)[0]).toEqual(['user', 'attempt', 'USER_BUSY']);
  });
});
