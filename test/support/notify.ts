import type { Db } from '../../integrations/sqlite/open-database.ts';
import { SmtpTransport } from '../../integrations/email/smtp-transport.ts';
import { FileEmailTransport } from '../../integrations/email/file-transport.ts';
import { TwilioTransport } from '../../integrations/sms/twilio-transport.ts';
import { FileSmsTransport } from '../../integrations/sms/file-transport.ts';
import { startNotifications, type NotificationRuntime } from '../../integrations/notify/runtime.ts';
import { tempDir } from './sim.ts';

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
