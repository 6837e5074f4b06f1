import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteVoicemailStore } from '../integrations/sqlite/voicemail-store.ts';
import { wavDurationMs } from '../integrations/simulator/wav.ts';
import { cliAsync } from './support/cli.ts';
import { runtimeFor } from './support/notify.ts';
import { simulate, tempDir } from './support/sim.ts';
import { TestSmtpServer, type SmtpBehaviour } from './support/smtp.ts';
import { caller, vmAccount } from './support/voicemail.ts';

const servers: TestSmtpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function smtpServer(behaviour: SmtpBehaviour = {}): Promise<TestSmtpServer> {
  const smtp = new TestSmtpServer(behaviour);
  servers.push(smtp);
  await smtp.listen();
  return smtp;
}


describe('voicemail-to-email', () => {
  it("the seed's path: no answer, a 5-second message, the WAV emailed over SMTP, the missed-call mail reports message_left, save after notify", async () => {
    const smtp = await smtpServer();
    const dir = tempDir();
    const db = join(dir, 'log.db');
    const r = await cliAsync(['simulate', 'callflows/example/scenarios/no-answer-voicemail.json'], {
      CALLFLOW_SMTP_URL: smtp.url,
      CALLFLOW_DB: db,
    });
    expect(r.status).toBe(0);
    const mails = await smtp.waitFor(3);
    const vm = mails.filter((m) => m.mail.subject?.startsWith('New voicemail'));
    expect(vm.map((m) => m.envelopeTo[0]).sort()).toEqual(['alice@example.test', 'frontdesk@example.test']);
    for (const m of vm) {
      expect(m.mail.subject).toBe('New voicemail from Carol Patient(+14155550100) (00:00:05)');
      expect(m.mail.attachments).toHaveLength(1);
      const [wav] = m.mail.attachments;
      expect(wav!.filename).toMatch(/^1-[0-9a-f]{10}\.wav$/);
      expect(wav!.contentType).toBe('audio/x-wav');
      expect(wavDurationMs(wav!.content)).toBe(5000);
    }
    const missed = mails.find((m) => m.mail.subject?.startsWith('Call from'))!;
    expect(missed.mail.text).toContain('Message left: true');
    expect(missed.mail.text).toContain('Bridged: false');

    // Both copies went out, so save_after_notify moved the message to the saved folder.
    const store = new SqliteVoicemailStore(openDatabase(db), join(dir, 'voicemail'));
    const [msg] = store.list('acc-example', 'vmbox-alice', 'saved');
    expect(msg).toMatchObject({ lengthMs: 5000, notifyStatus: 'sent', callerName: 'Carol Patient' });
    expect(readFileSync(msg!.mediaPath).equals(vm[0]!.mail.attachments[0]!.content)).toBe(true);
    expect(r.stdout).toContain('message 1 stored in box 2000: 5000 ms');
  });

  const leaveWith = async (
    behaviour: SmtpBehaviour,
    alice: Record<string, unknown>,
    template: Record<string, unknown> = { id: 'voicemail_to_email', from: 'pbx@test.local', subject: 'Voicemail {{ voicemail.msg_id }}' },
  ) => {
    const smtp = await smtpServer(behaviour);
    let rt!: ReturnType<typeof runtimeFor>;
    const dir = tempDir();
    const sim = await simulate({
      dir,
      account: vmAccount({
        alice: { notify_email_addresses: ['desk@test.local'], ...alice },
        extra: { notification_templates: [template] },
      }),
      scenario: caller({ speaks_s: 3, hangup_at_s: 11 }),
      outbox: (db) => (rt = runtimeFor(db, { smtpUrl: smtp.url, retryMs: 20 })).outbox,
    });
    await rt.dispatcher.drain(5000);
    await rt.dispatcher.close();
    const store = new SqliteVoicemailStore(sim.db, join(dir, 'voicemail'));
    return { smtp, message: store.get(1)!, sim };
  };

  it('delete_after_notify moves the message to deleted once every copy is sent', async () => {
    const { smtp, message } = await leaveWith({}, { delete_after_notify: true });
    expect(smtp.received).toHaveLength(2);
    expect(message).toMatchObject({ folder: 'deleted', notifyStatus: 'sent' });
  });

  it('no after-notify action when the email failed: the message stays new (KAZOO publishes voicemail_saved)', async () => {
    const { smtp, message } = await leaveWith({ rejectRecipients: (a) => a === 'desk@test.local' }, { save_after_notify: true });
    expect(smtp.received.map((m) => m.envelopeTo)).toEqual([['alice@test.local']]);
    expect(message).toMatchObject({ folder: 'new', notifyStatus: 'failed' });
  });

  it("the account's template disabled: no email at all (teletype's default is not sent instead), no after-notify action", async () => {
    const off = { id: 'voicemail_to_email', enabled: false, from: 'pbx@test.local', subject: 'Voicemail' };
    const { smtp, message, sim } = await leaveWith({}, { delete_after_notify: true }, off);
    expect(smtp.received).toHaveLength(0);
    expect(message).toMatchObject({ folder: 'new', notifyStatus: 'ignored' });
    const notes = sim.detail.steps.flatMap((st) => JSON.parse(st.notes as string) as string[]);
    expect(notes).toContain(
      "voicemail_new: the account's voicemail_to_email template is disabled: no email, so no after-notify action: the message stays new (voicemail_saved)",
    );
  });

  it('a temporary SMTP failure delays the action until the retry succeeds', async () => {
    const { smtp, message } = await leaveWith({ tempFailFirst: 1 }, { save_after_notify: true });
    expect(smtp.received).toHaveLength(2);
    expect(message).toMatchObject({ folder: 'saved', notifyStatus: 'sent' });
  });
});
