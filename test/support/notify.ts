import type { Db } from '../../integrations/sqlite/open-database.ts';
import { SmtpTransport } from '../../integrations/email/smtp-transport.ts';
import { FileEmailTransport } from '../../integrations/email/file-transport.ts';
import { TwilioTransport } from '../../integrations/sms/twilio-transport.ts';
import { FileSmsTransport } from '../../integrations/sms/file-transport.ts';
import { startNotifications, type NotificationRuntime } from '../../integrations/notify/runtime.ts';
import { join } from 'node:path';
import { account, callflow, tempDir, writeJson } from './sim.ts';

export const ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
export const AUTH_TOKEN = 'test-token-not-a-secret';

/** The real transports pointed at the loopback test servers, with a fast retry policy. */
export function runtimeFor(db: Db, opts: { smtpUrl?: string; twilioBaseUrl?: string; retryMs?: number }): NotificationRuntime {
  const dir = tempDir('cf-outbox-');
  return startNotifications(
    db,
    {
      email: opts.smtpUrl ? new SmtpTransport({ url: opts.smtpUrl, maxConnections: 2 }) : new FileEmailTransport(`${dir}/email`),
      sms: opts.twilioBaseUrl
        ? new TwilioTransport({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: '+15550009999', baseUrl: opts.twilioBaseUrl })
        : new FileSmsTransport(`${dir}/sms`),
    },
    { retry: { baseDelayMs: opts.retryMs ?? 50, maxDelayMs: 400, maxAttempts: 6 } },
  );
}

/**
 * A scenario (and its account beside it) whose call runs one notification node: an email to
 * ops@test.local from the template `missed`, sent at channel_destroy.
 */
export function missedCallScenarioIn(dir: string, callerName = 'Mallory'): string {
  const templates = [
    { id: 'missed', from: 'pbx@test.local', subject: 'Call from {{ caller_id.name }}', text: 'Hangup: {{ call.notify.hangup_cause }}' },
  ];
  const flow = { module: 'notification', data: { recipients: [{ type: 'email', id: 'ops@test.local' }], template_id: 'missed' } };
  writeJson(join(dir, 'account.json'), account([callflow('main', flow, ['100'])], { notification_templates: templates }));
  return writeJson(join(dir, 's.json'), { name: 's', account: 'account.json', call: { from: '+15550001111', caller_id_name: callerName, to: '100' } });
}
