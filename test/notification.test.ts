import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationRuntime } from '../integrations/notify/runtime.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import { runtimeFor, ACCOUNT_SID, AUTH_TOKEN } from './support/notify.ts';
import { account, callflow, simulate, type SimResult } from './support/sim.ts';
import { TestSmtpServer } from './support/smtp.ts';
import { TestTwilioServer } from './support/twilio-server.ts';

const templates = [
  {
    id: 'missed',
    from: 'pbx@test.local',
    subject: 'Call from {{ caller_id.name_number }}',
    to: { type: 'original', email_addresses: ['desk@test.local'] },
    text: 'cause={{ call.notify.hangup_cause }} code={{ hangup.code }} by={{ call.hangup_by }} bridged={{ call.call_bridged }} left={{ call.message_left }} secs={{ call.duration_seconds }} comments={{ comments }} local={{ date_called.local }}',
    html: '<p>{{ caller_id.name }} called {{ to.user }}</p>',
    sms: { body: 'Missed call from {{ caller_id.number }} ({{ call.notify.hangup_cause | default: "in progress" }})' },
  },
  { id: 'fixed', from: 'pbx@test.local', subject: 'Fixed', to: { type: 'specified', email_addresses: ['boss@test.local'] }, text: 'x' },
  { id: 'broken', from: 'pbx@test.local', subject: 'Broken', text: 'hello {{ oops' },
  { id: 'half', from: 'pbx@test.local', subject: 'Half', text: 'fine', sms: { body: 'hi {{ oops' } },
  { id: 'off', enabled: false, from: 'pbx@test.local', subject: 'Off', text: 'x' },
];

const users = [
  { id: 'alice', first_name: 'Alice', email: 'alice@test.local', mobile_number: '+15550000001' },
  { id: 'bob', first_name: 'Bob', email: 'bob@test.local', mobile_number: '+15550000002' },
  { id: 'carol', first_name: 'Carol', email: 'carol@test.local', mobile_number: '+15550000003' },
];

const notif = (data: Record<string, unknown>, children?: Record<string, unknown>) => ({
  module: 'notification',
  data: { recipients: [], template_id: 'missed', ...data },
  ...(children ? { children } : {}),
});
const ring = { module: 'user', data: { id: 'alice', timeout: 5 } };

let smtp: TestSmtpServer;
let twilio: TestTwilioServer;
let runtimes: NotificationRuntime[] = [];

beforeEach(async () => {
  smtp = new TestSmtpServer();
  await smtp.listen();
  // Bob's number is refused for good; Carol's gets a 503, then a 429, then goes through.
  const busy = [
    { status: 503, code: 20500, message: 'Internal Server Error' },
    { status: 429, code: 20429, message: 'Too Many Requests' },
  ];
  let carolTries = 0;
  twilio = new TestTwilioServer(ACCOUNT_SID, AUTH_TOKEN, (to) => {
    if (to === '+15550000002') return { status: 400, code: 21211, message: "The 'To' number +15550000002 is not a valid phone number." };
    if (to === '+15550000003') return busy[carolTries++];
    return undefined;
  });
  await twilio.listen();
});

afterEach(async () => {
  for (const r of runtimes) await r.dispatcher.close();
  runtimes = [];
  await smtp.close();
  await twilio.close();
});

async function run(flow: unknown, scenario: Record<string, unknown> = {}, smtpUrl = smtp.url): Promise<{ sim: SimResult; rt: NotificationRuntime }> {
  let rt!: NotificationRuntime;
  const sim = await simulate({
    account: account([callflow('main', flow, ['100'])], { users, notification_templates: templates }),
    scenario: { call: { from: '+15551230000', caller_id_name: 'Carol', to: '100' }, ...scenario },
    outbox: (db) => {
      rt = runtimeFor(db, { smtpUrl, twilioBaseUrl: twilio.baseUrl });
      runtimes.push(rt);
      return rt.outbox;
    },
  });
  await rt.dispatcher.drain(5000);
  return { sim, rt };
}

const outboxRows = (sim: SimResult) => new OutboxStore(sim.db, Date).list({ limit: 100 }).reverse();

describe('notification module', () => {
  it('callflow_exec: queued and sent before the user node rings, with the call as it was then', async () => {
    const { sim } = await run(notif({ send_at: 'callflow_exec', recipients: [{ type: 'user', id: 'alice' }] }, { _: ring }));
    const [mail] = await smtp.waitFor(1);
    const rows = outboxRows(sim);
    expect(rows).toHaveLength(1);
    const bridge = sim.detail.commands.find((c) => c.app === 'bridge')!;
    // Queued during step 1, at call time 0; the bridge starts after it, in step 2.
    expect(rows[0]!.queued_call_at).toBe(sim.detail.execution.started_at);
    expect(bridge.step_seq).toBe(2);
    expect(JSON.parse(sim.detail.steps[0]!.notes as string)).toContain('queued 1 message(s) now');
    expect(mail!.mail.subject).toBe('Call from Carol(+15551230000)');
    expect(mail!.mail.text).toContain('cause= code= by= bridged=false');
    expect(mail!.envelopeTo).toEqual(['alice@test.local']);
  });

  it('channel_destroy: sent after the channel is destroyed, carrying the hangup cause and who hung up', async () => {
    const { sim } = await run(notif({ comments: 'after hours' }, { _: ring }), { caller: { hangup_at_s: 3 } });
    const [mail] = await smtp.waitFor(1);
    const destroy = sim.detail.events.find((e) => e.name === 'CHANNEL_DESTROY')!;
    const effect = sim.detail.effects[0]!;
    expect(effect.ord as number).toBeGreaterThan(destroy.ord as number);
    expect(JSON.parse(effect.detail as string).queued).toHaveLength(1);
    expect(outboxRows(sim)[0]!.queued_call_at).toBe((destroy.at as number));
    expect(mail!.mail.text).toBe(
      'cause=ORIGINATOR_CANCEL code=sip:487 by=caller bridged=false left=false secs=3 comments=after hours local=2026-01-05 14:00:00 UTC',
    );
    expect(mail!.mail.html).toBe('<p>Carol called 100</p>');
  });

  it('user and email recipients together; the message keeps one Message-ID per recipient', async () => {
    await run(notif({ recipients: [{ type: 'user', id: 'alice' }, { type: 'email', id: ['x@test.local', 'not an address'] }] }));
    const got = await smtp.waitFor(2);
    expect(got.map((m) => m.envelopeTo[0]).sort()).toEqual(['alice@test.local', 'x@test.local']);
    for (const m of got) expect(m.mail.to && 'value' in m.mail.to ? m.mail.to.value.map((a) => a.address) : []).toEqual(['alice@test.local', 'x@test.local']);
    expect(new Set(got.map((m) => m.mail.messageId)).size).toBe(2);
  });

  it("no recipients: the template's own addresses are used", async () => {
    await run(notif({}));
    const [m] = await smtp.waitFor(1);
    expect(m!.envelopeTo).toEqual(['desk@test.local']);
  });

  it('"specified" puts the template first; "original" the callflow first', async () => {
    await run(notif({ template_id: 'fixed', recipients: [{ type: 'user', id: 'alice' }] }));
    await run(notif({ template_id: 'missed', recipients: [{ type: 'user', id: 'alice' }] }));
    const got = await smtp.waitFor(2);
    expect(got.map((m) => m.envelopeTo[0]).sort()).toEqual(['alice@test.local', 'boss@test.local']);
    expect(got.find((m) => m.mail.subject === 'Fixed')!.envelopeTo).toEqual(['boss@test.local']);
  });

  it('two identical nodes send once (post-hangup and callflow_exec alike)', async () => {
    const same = { recipients: [{ type: 'user', id: 'alice' }] };
    const a = await run(notif(same, { _: notif(same) }));
    const exec = { ...same, send_at: 'callflow_exec' };
    const b = await run(notif(exec, { _: notif(exec) }));
    await smtp.waitFor(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received).toHaveLength(2);
    expect(outboxRows(a.sim)).toHaveLength(1);
    expect(outboxRows(b.sim)).toHaveLength(1);
    expect(JSON.parse(b.sim.detail.steps[1]!.notes as string)).toContain('queued 0 message(s) now, 1 already queued by an identical node');
  });

  it('email and SMS both: SMS through the twilio client with Basic auth and a form body', async () => {
    const { sim } = await run(notif({ notification_media: ['email', 'sms'], recipients: [{ type: 'user', id: 'alice' }] }, { _: ring }), {
      caller: { hangup_at_s: 1 },
    });
    await smtp.waitFor(1);
    expect(twilio.requests).toHaveLength(1);
    const req = twilio.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(req.authorization).toBe('Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'));
    expect(req.contentType).toContain('application/x-www-form-urlencoded');
    expect(req.form).toEqual({ To: '+15550000001', From: '+15550009999', Body: 'Missed call from +15551230000 (ORIGINATOR_CANCEL)' });
    const sms = outboxRows(sim).find((r) => r.medium === 'sms')!;
    expect(sms.status).toBe('sent');
    expect(sms.provider_id).toMatch(/^SM\d{32}$/);
  });

  it('Twilio 400 (21211): failed at once with its code, no retry', async () => {
    const { sim } = await run(notif({ notification_media: ['sms'], recipients: [{ type: 'user', id: 'bob' }] }));
    const [row] = outboxRows(sim);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, error_code: '21211' });
    expect(row!.last_error).toContain('not a valid phone number');
    expect(new OutboxStore(sim.db, Date).attempts(row!.id)).toMatchObject([{ outcome: 'permanent_failure', code: '21211' }]);
  });

  it('Twilio 503, then 429: retried by the outbox (the client\'s own retries are off), then sent once', async () => {
    const { sim } = await run(notif({ notification_media: ['sms'], recipients: [{ type: 'user', id: 'carol' }] }));
    const [row] = outboxRows(sim);
    expect(row).toMatchObject({ status: 'sent', attempts: 3 });
    const attempts = new OutboxStore(sim.db, Date).attempts(row!.id);
    expect(attempts.map((a) => a.outcome)).toEqual(['temporary_failure', 'temporary_failure', 'sent']);
    expect(attempts.slice(0, 2).map((a) => a.code)).toEqual(['20500', '20429']);
    expect(twilio.requests.filter((r) => r.form.To === '+15550000003')).toHaveLength(3);
  });

  it('SMTP 5xx for a recipient: that recipient fails for good, the others are delivered', async () => {
    await smtp.close();
    smtp = new TestSmtpServer({ rejectRecipients: (a) => a === 'x@test.local' });
    await smtp.listen();
    const { sim } = await run(notif({ recipients: [{ type: 'email', id: ['x@test.local', 'y@test.local'] }] }));
    await smtp.waitFor(1);
    const rows = outboxRows(sim);
    expect(rows.map((r) => [r.recipient, r.status, r.error_code])).toEqual([
      ['x@test.local', 'failed', '550'],
      ['y@test.local', 'sent', null],
    ]);
  });

  it('SMTP 4xx then OK: retried with backoff, delivered exactly once, every attempt recorded', async () => {
    await smtp.close();
    smtp = new TestSmtpServer({ tempFailFirst: 2 });
    await smtp.listen();
    const { sim } = await run(notif({ recipients: [{ type: 'user', id: 'alice' }] }));
    await smtp.waitFor(1);
    const [row] = outboxRows(sim);
    expect(row!.status).toBe('sent');
    expect(new OutboxStore(sim.db, Date).attempts(row!.id).map((a) => [a.outcome, a.code])).toEqual([
      ['temporary_failure', '451'],
      ['temporary_failure', '451'],
      ['sent', null],
    ]);
    expect(smtp.received).toHaveLength(1);
  });

  it('a bad template fails that send only, with a clear error; the call goes on', async () => {
    const { sim } = await run(notif({ template_id: 'broken', recipients: [{ type: 'user', id: 'alice' }] }, { _: ring }));
    expect(sim.detail.effects[0]).toMatchObject({ status: 'failed', error_kind: 'template_invalid' });
    expect(sim.detail.effects[0]!.error_message).toMatch(/^template broken: text: output "\{\{ oops" not closed, line:1, col:7/);
    expect(sim.detail.steps.map((s) => s.module)).toEqual(['notification', 'user']);
    expect(outboxRows(sim)).toHaveLength(0);
  });

  it("a medium whose template does not render fails alone: a broken SMS body does not cost the email", async () => {
    const media = { template_id: 'half', notification_media: ['email', 'sms'], recipients: [{ type: 'user', id: 'alice' }] };
    const { sim } = await run(notif(media));
    const [mail] = await smtp.waitFor(1);
    expect(mail!.envelopeTo).toEqual(['alice@test.local']);
    expect(outboxRows(sim).map((r) => r.medium)).toEqual(['email']);
    expect(sim.detail.effects[0]).toMatchObject({ status: 'failed', error_kind: 'template_invalid' });
    expect(sim.detail.effects[0]!.error_message).toMatch(/^template half: sms\.body: .*; the other medium was queued \(outbox #1\)$/);

    const now = await run(notif({ ...media, send_at: 'callflow_exec' }));
    const notes = JSON.parse(now.sim.detail.steps[0]!.notes as string) as string[];
    expect(notes.some((n) => n.startsWith('sms: not sent: template half: sms.body: '))).toBe(true);
    expect(notes).toContain('queued 1 message(s) now');
    expect(outboxRows(now.sim).map((r) => r.medium)).toEqual(['email']);
  });

  it('no template_id: nothing is sent and the step says why; a disabled template sends nothing', async () => {
    const { sim } = await run({ module: 'notification', data: { recipients: [] } });
    expect(sim.detail.steps[0]!.reason).toContain('no template_id: nothing is sent');
    const off = await run(notif({ template_id: 'off', send_at: 'callflow_exec' }));
    expect(JSON.parse(off.sim.detail.steps[0]!.notes as string)).toContain('template "off" is disabled: nothing sent');
    expect(outboxRows(off.sim)).toHaveLength(0);
  });
});
