import { describe, expect, it } from 'vitest';
import type { Outbox, OutboundMessage, OutboxReceipt } from '../engine/outbox.ts';
import { account, callflow, simulate } from './support/sim.ts';
import { caller, vmAccount } from './support/voicemail.ts';

/** An in-memory outbox: what the modules handed over, deduplicated by idempotency key. */
class MemOutbox implements Outbox {
  readonly msgs: OutboundMessage[] = [];
  private readonly keys = new Set<string>();
  enqueue(_execution: string, _at: number, messages: readonly OutboundMessage[]): OutboxReceipt[] {
    return messages.map((m) => {
      const duplicate = this.keys.has(m.idempotencyKey);
      if (!duplicate) {
        this.keys.add(m.idempotencyKey);
        this.msgs.push(m);
      }
      return { id: this.msgs.length, idempotencyKey: m.idempotencyKey, duplicate };
    });
  }
}

const users = [
  { id: 'alice', first_name: 'Alice', email: 'alice@test.local', mobile_number: '+15550000001' },
  { id: 'bob', first_name: 'Bob', email: 'bob@test.local' },
];

async function runNotification(data: Record<string, unknown>, templates: unknown[], scenario: Record<string, unknown> = {}) {
  const ob = new MemOutbox();
  const sim = await simulate({
    account: account([callflow('main', { module: 'notification', data: { recipients: [], ...data } }, ['100'])], {
      users,
      notification_templates: templates,
    }),
    scenario: { call: { from: '+15551230000', caller_id_name: 'Carol', to: '100' }, ...scenario },
    outbox: () => ob,
  });
  return { sim, ob };
}

async function leaveVoicemail(vmTemplate: Record<string, unknown>, box: Record<string, unknown> = { notify_email_addresses: ['desk@test.local'] }) {
  const ob = new MemOutbox();
  const sim = await simulate({
    account: vmAccount({
      alice: box,
      extra: { notification_templates: [vmTemplate] },
    }),
    scenario: caller({ speaks_s: 3, hangup_at_s: 11 }),
    outbox: () => ob,
  });
  return { sim, ob };
}

describe('voicemail_to_email: the account template\'s addresses (kazoo-semantics d.5/d.6)', () => {
  it("the template's cc and bcc addresses receive the voicemail email", async () => {
    const { ob } = await leaveVoicemail({
      id: 'voicemail_to_email',
      from: 'pbx@test.local',
      subject: 'VM',
      text: 'x',
      cc: { type: 'specified', email_addresses: ['cc@test.local'] },
      bcc: { type: 'specified', email_addresses: ['archive@test.local'] },
    });
    const envelope = ob.msgs.filter((m) => m.templateId === 'voicemail_to_email').map((m) => m.recipient).sort();
    // teletype_voicemail_to_email sends to find_addresses(...): To = box + owner, Cc/Bcc = template's.
    expect(envelope).toEqual(['alice@test.local', 'archive@test.local', 'cc@test.local', 'desk@test.local']);
    for (const m of ob.msgs) expect(m.email!.cc).toEqual(['cc@test.local']);
  });

  it("the template's reply_to is set on the voicemail email", async () => {
    const { ob } = await leaveVoicemail({ id: 'voicemail_to_email', from: 'pbx@test.local', reply_to: 'help@test.local', subject: 'VM', text: 'x' });
    expect(ob.msgs.length).toBeGreaterThan(0);
    for (const m of ob.msgs) expect(m.email!.replyTo).toBe('help@test.local');
  });
});

describe('voicemail_to_email: recipients from the template alone', () => {
  it('a box with no recipient of its own still emails a template `to` of type specified (teletype find_addresses)', async () => {
    const { ob, sim } = await leaveVoicemail(
      { id: 'voicemail_to_email', from: 'pbx@test.local', subject: 'VM', text: 'x', to: { type: 'specified', email_addresses: ['archive@test.local'] } },
      { notify_email_addresses: [], owner_id: 'nobody' },
    );
    expect(ob.msgs.map((m) => m.recipient)).toEqual(['archive@test.local']);
    expect(sim.detail.steps.map((s) => String(s.notes)).join(' ')).toContain('email to archive@test.local queued');
  });

  it('with nobody anywhere, nothing is sent and the message stays new (ignored)', async () => {
    const { ob, sim } = await leaveVoicemail({ id: 'voicemail_to_email', from: 'pbx@test.local', subject: 'VM', text: 'x' }, { notify_email_addresses: [], owner_id: 'nobody' });
    expect(ob.msgs).toEqual([]);
    expect(sim.detail.steps.map((s) => String(s.notes)).join(' ')).toContain('no recipient (ignored)');
  });
});

describe('notification: notification_media', () => {
  it('an empty notification_media list is refused at load, naming the field (it would send nothing and say nothing)', async () => {
    const tpl = { id: 't', from: 'pbx@test.local', subject: 's', text: 'x' };
    const run = runNotification(
      { template_id: 't', send_at: 'callflow_exec', notification_media: [], recipients: [{ type: 'user', id: 'alice' }] },
      [tpl],
    );
    await expect(run).rejects.toThrow(/\/flow\/data\/notification_media.*fewer than 1/);
  });
});

describe('notification: the step log of a channel_destroy send', () => {
  it('a recipient left out is noted in the step log even when another medium\'s template failed', async () => {
    const tpl = { id: 'half', from: 'pbx@test.local', subject: 's', text: 'fine', sms: { body: 'hi {{ oops' } };
    const { sim, ob } = await runNotification(
      { template_id: 'half', notification_media: ['email', 'sms'], recipients: [{ type: 'user', id: ['alice', 'ghost'] }] },
      [tpl],
      { caller: { hangup_at_s: 1 } },
    );
    // The email to Alice went; "ghost" was left out. With callflow_exec the step notes say so;
    // with channel_destroy the effect row must too (README: "left out with a note in the step log").
    expect(ob.msgs.map((m) => m.recipient)).toEqual(['alice@test.local']);
    const effect = sim.detail.effects[0]!;
    expect(effect.status).toBe('failed');
    expect(`${effect.detail as string} ${effect.error_message as string}`).toContain('no user "ghost"');
  });
});
