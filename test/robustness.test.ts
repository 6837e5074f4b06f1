import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Call } from '../engine/call/call.ts';
import { CommandTracker } from '../engine/call/command-tracker.ts';
import { DigitBuffer } from '../engine/call/digit-buffer.ts';
import { ChannelGoneError, CommandRejectedError } from '../engine/errors.ts';
import { RandomIds, SystemClock } from '../engine/providers.ts';
import type { ChannelEvent, Switch } from '../engine/switch.ts';
import { ExecutionTrace } from '../engine/trace/execution-trace.ts';
import { notificationSettings } from '../integrations/notify/config.ts';
import { OutboxDispatcher } from '../integrations/notify/dispatcher.ts';
import { SimulatedSwitch } from '../integrations/simulator/simulated-switch.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import type { DeliveryResult, EmailTransport, SmsTransport } from '../integrations/notify/transport.ts';
import { account, callflow, simulate, tempDir } from './support/sim.ts';

const clock = new SystemClock();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const info = { callId: 'c1', callerNumber: '1', callerName: 'x', calleeNumber: '2', captureGroups: {} };

/** A started Call on a switch that accepts every command; `emit` plays the switch's events. */
function callOnQuietSwitch(): { call: Call; emit: (e: ChannelEvent) => void } {
  let listener: (e: ChannelEvent) => void = () => {};
  const sw: Switch = { subscribe: (_u, l) => ((listener = l), () => {}), execute: async () => ({ ok: true }) };
  const call = new Call(info, { sw, clock, ids: new RandomIds(), trace: new ExecutionTrace(clock), account: { id: 'a' } as never, recordingDir: '/tmp', executionId: 'e', startedAt: 0 });
  call.start({ onHungUp() {}, onDestroyed() {} });
  return { call, emit: (e) => listener(e) };
}

describe('call control never leaves a rejection unhandled', () => {
  it('the channel destroyed while a command waits for its acknowledgement', async () => {
    let listener: (e: ChannelEvent) => void = () => {};
    const sw: Switch = {
      subscribe: (_u, l) => ((listener = l), () => {}),
      execute: async () => (await sleep(20), { ok: false, reason: 'invalid session id', gone: true }),
    };
    const call = new Call(info, { sw, clock, ids: new RandomIds(), trace: new ExecutionTrace(clock), account: {} as never, recordingDir: '/tmp', executionId: 'e', startedAt: 0 });
    call.start({ onHungUp() {}, onDestroyed() {} });
    const p = call.playback('x.wav');
    setTimeout(() => listener({ name: 'CHANNEL_DESTROY', uuid: 'c1', headers: {} }), 5);
    await expect(p).rejects.toBeInstanceOf(ChannelGoneError);
    await sleep(40); // vitest fails the run on any unhandled rejection
  });

  it("a switch whose send throws: a typed error now, no timeout rejection later", async () => {
    const t = new CommandTracker({ execute: async () => Promise.reject(new Error('socket closed')), subscribe: () => () => {} }, 'c2', clock, new RandomIds(), new ExecutionTrace(clock));
    await expect(t.run({ app: 'answer' }, 30)).rejects.toBeInstanceOf(CommandRejectedError);
    expect(t.inFlight).toBe(0);
    await sleep(60);
  });

  it('two digit collections at once run one after the other', async () => {
    const b = new DigitBuffer(clock);
    const a = b.collect({ maxDigits: 1, timeoutMs: 50, interdigitMs: 50 });
    const c = b.collect({ maxDigits: 1, timeoutMs: 500, interdigitMs: 50 });
    setTimeout(() => b.push('7'), 100);
    expect(await a).toBe('');
    expect(await c).toBe('7');
  });
});

describe('who hung up, as a real switch reports it', () => {
  it("FreeSWITCH's caller disposition arrives only with CHANNEL_HANGUP_COMPLETE: still the caller", async () => {
    const { call, emit } = callOnQuietSwitch();
    emit({ name: 'CHANNEL_ANSWER', uuid: 'c1', headers: {} });
    emit({ name: 'CHANNEL_HANGUP', uuid: 'c1', headers: { 'Hangup-Cause': 'NORMAL_CLEARING' } });
    emit({ name: 'CHANNEL_HANGUP_COMPLETE', uuid: 'c1', headers: { 'Hangup-Cause': 'NORMAL_CLEARING', variable_sip_hangup_disposition: 'recv_bye' } });
    await sleep(5);
    expect(call.currentState().hangupBy).toBe('caller');
    call.stop();
  });
});

describe("KAZOO's hangup_info for a channel that ended without saying how", () => {
  it('a dropped socket (CHANNEL_DISCONNECTED, no cause): UNSPECIFIED, sip:600', async () => {
    const { call, emit } = callOnQuietSwitch();
    expect(call.currentState().hangup).toBeUndefined();
    emit({ name: 'CHANNEL_DISCONNECTED', uuid: 'c1', headers: { 'X-Callflow-Disconnect-Reason': 'socket closed' } });
    expect(call.currentState().hangup).toEqual({ disposition: null, cause: 'UNSPECIFIED', code: 'sip:600' });
    call.stop();
  });
});

describe('executor', () => {
  it('a hangup the switch refuses does not keep the execution open: handlers still run', async () => {
    class RefusingSwitch extends SimulatedSwitch {
      override async execute(uuid: string, appUuid: string, command: Parameters<Switch['execute']>[2]) {
        if (command.app === 'hangup') return { ok: false as const, reason: 'refused', gone: false };
        return super.execute(uuid, appUuid, command);
      }
    }
    // Swap the simulator class the driver uses for one that refuses hangups.
    const mod = await import('../integrations/simulator/simulated-switch.ts');
    const original = mod.SimulatedSwitch.prototype.execute;
    mod.SimulatedSwitch.prototype.execute = RefusingSwitch.prototype.execute;
    try {
      const r = await simulate({
        // A post-hangup handler before the stop: without it there is nothing to prove still runs.
        account: account([callflow('main', { module: 'test_on_hangup', data: {}, children: { _: { module: 'test_stop', data: { cause: 'USER_BUSY' } } } }, ['100'])]),
        scenario: { call: { from: '1', to: '100' }, max_call_s: 60 },
      });
      expect(r.summary.endReason).toBe('hangup_requested');
      expect(r.detail.commands.find((c) => c.app === 'hangup')!.ack).toBe('-ERR refused');
      // It ended on its own clock (10 s for the hangup, 10 s more for the destroy), long before
      // the switch would have cut the call at max_call_s, and no hangup was ever seen.
      expect(r.detail.execution.ended_at! - r.detail.execution.started_at).toBe(20_000);
      expect(r.detail.events.some((e) => e.name === 'CHANNEL_HANGUP')).toBe(false);
      expect(r.summary.status).toBe('completed');
      expect(r.detail.effects.map((e) => [e.module, e.status])).toEqual([['test_on_hangup', 'ok']]);
    } finally {
      mod.SimulatedSwitch.prototype.execute = original;
    }
  });
});

const okTransport = (delayMs = 0, sent: string[] = []): EmailTransport & SmsTransport => ({
  description: 'test',
  async send(d: { recipient: string }): Promise<DeliveryResult> {
    await sleep(delayMs);
    sent.push(d.recipient);
    return { ok: true, providerId: 'p' };
  },
  close() {},
});

const message = (i: number) => ({
  idempotencyKey: `k${i}`, medium: 'sms' as const, recipient: `+1555000000${i}`, templateId: 't', nodeKey: 'n', sms: { body: 'b' },
});

describe('outbox dispatcher', () => {
  it("a message a live dispatcher is sending is not taken by another; a dead sender's is", async () => {
    const db = openDatabase(join(tempDir(), 'o.db'));
    const store = new OutboxStore(db, Date);
    store.enqueue('e', 0, [message(1)]);
    const sent: string[] = [];
    const first = new OutboxDispatcher(store, { email: okTransport(300, sent), sms: okTransport(300, sent) });
    first.start();
    // The second starts only once the first holds the message: the lease, not timing, must stop it.
    const status = db.prepare(`SELECT status FROM outbox WHERE idempotency_key = 'k1'`);
    for (let t = Date.now(); (status.get() as { status: string }).status !== 'sending'; ) {
      if (Date.now() - t > 2000) throw new Error('the first dispatcher never claimed the message');
      await sleep(5);
    }
    const second = new OutboxDispatcher(store, { email: okTransport(0, sent), sms: okTransport(0, sent) });
    second.start();
    await first.drain(2000);
    await second.drain(500);
    expect(sent).toEqual(['+15550000001']);
    await first.close();
    await second.close();

    // A row claimed by a process that no longer exists goes back to pending on start.
    store.enqueue('e', 0, [message(2)]);
    db.prepare(`UPDATE outbox SET status = 'sending', claimed_by = '999999999:x', lease_until = ? WHERE idempotency_key = 'k2'`).run(Date.now() + 600_000);
    const third = new OutboxDispatcher(store, { email: okTransport(0, sent), sms: okTransport(0, sent) });
    third.start();
    await third.drain(1000);
    expect(sent).toEqual(['+15550000001', '+15550000002']);
    await third.close();
  });

  it('an unreadable outbox is retried, not fatal', async () => {
    const db = openDatabase(join(tempDir(), 'o.db'));
    const store = new OutboxStore(db, Date);
    store.enqueue('e', 0, [message(3)]);
    const real = store.claimDue.bind(store);
    let calls = 0;
    store.claimDue = (...a: Parameters<OutboxStore['claimDue']>) => {
      if (calls++ === 0) throw new Error('database is locked');
      return real(...a);
    };
    const warnings: string[] = [];
    const sent: string[] = [];
    const d = new OutboxDispatcher(store, { email: okTransport(0, sent), sms: okTransport(0, sent), logger: { info() {}, warn: (l) => warnings.push(l) } });
    d.start();
    const r = await d.drain(3000);
    expect(warnings).toEqual(['outbox: cannot read the outbox: database is locked; retrying']);
    expect(r.sent).toBe(1);
    expect(sent).toEqual(['+15550000003']);
    await d.close();
  });

  it('a manual retry restarts the attempt budget', async () => {
    const db = openDatabase(join(tempDir(), 'o.db'));
    const store = new OutboxStore(db, Date);
    store.enqueue('e', 0, [message(4)]);
    let n = 0;
    const flaky: EmailTransport & SmsTransport = {
      description: 'flaky',
      async send() {
        n++;
        return { ok: false, temporary: true, code: '451', reason: 'busy' };
      },
      close() {},
    };
    const d = new OutboxDispatcher(store, { email: flaky, sms: flaky, retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 } });
    d.start();
    await d.drain(2000);
    expect(store.get(1)).toMatchObject({ status: 'failed', attempts: 3 });
    expect(store.retry(1)).toBe(true);
    d.kick();
    await d.drain(2000);
    expect(store.get(1)).toMatchObject({ status: 'failed', attempts: 6 });
    expect(store.get(1)!.last_error).toBe('gave up after 3 attempts: busy');
    expect(n).toBe(6);
    await d.close();
  });
});

describe('settings', () => {
  it('credentials never go in clear text beyond this machine', () => {
    const sid = 'AC' + 'a'.repeat(32);
    expect(() => notificationSettings({ TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM_NUMBER: '+15550001111', CALLFLOW_TWILIO_BASE_URL: 'http://sms.example.test' })).toThrow(
      'CALLFLOW_TWILIO_BASE_URL: must be https (http only for a server on this machine)',
    );
    expect(notificationSettings({ TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM_NUMBER: '+15550001111', CALLFLOW_TWILIO_BASE_URL: 'http://127.0.0.1:4010' }).sms).toMatchObject({ kind: 'twilio', baseUrl: 'http://127.0.0.1:4010' });
  });

  it('a bad value is named, and never echoed when it may hold a secret', () => {
    const sid = 'AC' + 'a'.repeat(32);
    const twilio = { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM_NUMBER: '+15550001111' };
    // The base URL is printed at start-up, so it may not carry credentials at all.
    expect(() => notificationSettings({ ...twilio, CALLFLOW_TWILIO_BASE_URL: 'https://user:Secret9@sms.example.test' })).toThrow(
      'CALLFLOW_TWILIO_BASE_URL: must not contain a user or password (the account comes from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)',
    );
    // A stray % in the password used to surface later as a bare "URI malformed".
    let message = '';
    try {
      notificationSettings({ CALLFLOW_SMTP_URL: 'smtp://user:%zzSecretPw@127.0.0.1:2525' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('CALLFLOW_SMTP_URL: the password is not valid percent-encoding (write a literal % as %25)');
    expect(message).not.toContain('Secret');
    expect(notificationSettings({ CALLFLOW_SMTP_URL: 'smtp://user:50%25off@127.0.0.1:2525' }).email).toMatchObject({ kind: 'smtp' });
  });

  it('a value that would be read as something else, or ignored, stops the start: one line naming the variable', () => {
    const sid = 'AC' + 'a'.repeat(32);
    const smtp = 'smtps://mail.example.test';
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ CALLFLOW_SMTP_URL: smtp, CALLFLOW_SMTP_INSECURE_TLS: 'true' }, 'CALLFLOW_SMTP_INSECURE_TLS: must be 1 (accept any certificate) or 0'],
      [{ CALLFLOW_SMTP_URL: 'smtp://' }, 'CALLFLOW_SMTP_URL: no host (expected smtp://host:port or smtps://host:port)'],
      [{ CALLFLOW_SMTP_URL: smtp, CALLFLOW_SMTP_PASSWORD: 'Secret9' }, 'CALLFLOW_SMTP_PASSWORD: set without a user (CALLFLOW_SMTP_USER, or one in CALLFLOW_SMTP_URL)'],
      [{ CALLFLOW_SMTP_USER: 'u', CALLFLOW_SMTP_PASSWORD: 'Secret9' }, 'CALLFLOW_SMTP_USER: only means something with CALLFLOW_SMTP_URL, which is not set'],
      [{ CALLFLOW_SMTP_INSECURE_TLS: '1' }, 'CALLFLOW_SMTP_INSECURE_TLS: only means something with CALLFLOW_SMTP_URL, which is not set'],
      [{ TWILIO_AUTH_TOKEN: 'Secret9', TWILIO_FROM_NUMBER: '+15550001111' }, 'TWILIO_AUTH_TOKEN: only means something with TWILIO_ACCOUNT_SID, which is not set'],
      [
        { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_MESSAGING_SERVICE_SID: '+15550001111' },
        'TWILIO_MESSAGING_SERVICE_SID: must be "MG" followed by 32 letters or digits',
      ],
    ];
    for (const [env, message] of cases) expect(() => notificationSettings(env)).toThrow(message);
    // What is right still passes.
    expect(notificationSettings({ CALLFLOW_SMTP_URL: smtp, CALLFLOW_SMTP_INSECURE_TLS: '0', CALLFLOW_SMTP_USER: 'u', CALLFLOW_SMTP_PASSWORD: 'p' }).email).toMatchObject({ kind: 'smtp', insecureTls: false });
    expect(notificationSettings({ CALLFLOW_SMTP_URL: 'smtp://u:p@127.0.0.1:2525', CALLFLOW_SMTP_INSECURE_TLS: '1' }).email).toMatchObject({ insecureTls: true });
    expect(notificationSettings({ TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_MESSAGING_SERVICE_SID: 'MG' + 'b'.repeat(32) }).sms).toMatchObject({ kind: 'twilio' });
  });
});

