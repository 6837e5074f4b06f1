import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import { cliAsync } from './support/cli.ts';
import { ACCOUNT_SID, AUTH_TOKEN } from './support/notify.ts';
import { TestTwilioServer } from './support/twilio-server.ts';
import { account, callflow, tempDir, writeJson } from './support/sim.ts';
import { missedCallScenarioIn as scenarioIn } from './support/notify.ts';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('file transports and their folder; the SMS sender', () => {
  it('the .eml file transport never overwrites a message another step log delivered into the same outbox folder', async () => {
    const dir = tempDir();
    const out = join(dir, 'outbox');
    const first = scenarioIn(join(dir, 'a'), 'Mallory');
    const second = scenarioIn(join(dir, 'b'), 'Eve');
    expect((await cliAsync(['simulate', first, '--db', join(dir, 'a.db')], { CALLFLOW_OUTBOX_DIR: out, CALLFLOW_SMTP_URL: '' })).status).toBe(0);
    expect((await cliAsync(['simulate', second, '--db', join(dir, 'b.db')], { CALLFLOW_OUTBOX_DIR: out, CALLFLOW_SMTP_URL: '' })).status).toBe(0);
    // Step log a.db says its message was delivered into this file:
    const a = new OutboxStore(openDatabase(join(dir, 'a.db')), Date).list({ limit: 1 })[0]!;
    expect(a.status).toBe('sent');
    const subjects = readdirSync(join(out, 'email')).map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(out, 'email', f), 'utf8'))![1]).sort();
    // Expected: both messages kept. Actual: one file (1-ops@test.local.eml) holding Eve's message,
    // and a.db's provider_id names a file that now holds another message.
    expect({ subjects, fileOfA: /^Subject: (.*)$/m.exec(readFileSync(a.provider_id!, 'utf8'))![1] }).toEqual({
      subjects: ['Call from Eve', 'Call from Mallory'],
      fileOfA: 'Call from Mallory',
    });
  });

  it('a CALLFLOW_OUTBOX_DIR that cannot be a folder is a one-line error naming the variable', async () => {
    const dir = tempDir();
    const scenario = scenarioIn(dir);
    const notADir = join(dir, 'outbox-is-a-file');
    writeFileSync(notADir, 'x');
    const r = await cliAsync(['simulate', scenario, '--db', join(dir, 'log.db'), '--deliver-timeout', '2'], { CALLFLOW_OUTBOX_DIR: notADir, CALLFLOW_SMTP_URL: '' });
    // Expected (guide: a wrong config value gets one line naming the variable): exit 1 and
    // "CALLFLOW_OUTBOX_DIR: ...". Actual: exit 0; the message sits pending with
    // "ENOTDIR: not a directory, mkdir '.../email'", retried for minutes, and fails in the end.
    expect({ status: r.status, firstLine: r.stderr.split('\n')[0] }).toMatchObject({ status: 1, firstLine: expect.stringMatching(/^CALLFLOW_OUTBOX_DIR: /) });
  });
  it('TWILIO_FROM_NUMBER set beside TWILIO_MESSAGING_SERVICE_SID is sent beside the messaging service, not dropped', async () => {
    const twilio = new TestTwilioServer(ACCOUNT_SID, AUTH_TOKEN);
    await twilio.listen();
    cleanup.push(() => twilio.close());
    const dir = tempDir();
    writeJson(
      join(dir, 'account.json'),
      account([callflow('main', { module: 'notification', data: { recipients: [{ type: 'user', id: 'alice' }], template_id: 't', notification_media: ['sms'] } }, ['100'])], {
        users: [{ id: 'alice', first_name: 'Alice', email: 'alice@test.local', mobile_number: '+15550000001' }],
        notification_templates: [{ id: 't', from: 'pbx@test.local', subject: 's', text: 'x', sms: { body: 'Missed call' } }],
      }),
    );
    const scenario = writeJson(join(dir, 's.json'), { name: 's', account: 'account.json', call: { from: '+15550001111', to: '100' } });
    const r = await cliAsync(['simulate', scenario, '--db', join(dir, 'log.db')], {
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM_NUMBER: '+15550009999',
      TWILIO_MESSAGING_SERVICE_SID: 'MG' + 'a'.repeat(32),
      CALLFLOW_TWILIO_BASE_URL: twilio.baseUrl,
    });
    // Both go to Twilio: the service sends, from that number (the From was dropped).
    expect(r.status, r.stderr).toBe(0);
    expect(twilio.delivered.map((d) => [d.form.From, d.form.MessagingServiceSid])).toEqual([['+15550009999', 'MG' + 'a'.repeat(32)]]);
  });

});
