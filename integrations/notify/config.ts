import { EngineError } from '../../engine/errors.ts';
import { FileEmailTransport } from '../email/file-transport.ts';
import { SmtpTransport } from '../email/smtp-transport.ts';
import { FileSmsTransport } from '../sms/file-transport.ts';
import { TwilioTransport } from '../sms/twilio-transport.ts';
import type { EmailTransport, SmsTransport } from './transport.ts';
import { join } from 'node:path';

/** A configuration value that cannot be used: names the variable, never its secret value. */
export class ConfigError extends EngineError {
  readonly kind = 'config_invalid';
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export interface Transports {
  readonly email: EmailTransport;
  readonly sms: SmsTransport;
}

const set = (v: string | undefined): v is string => v !== undefined && v.trim().length > 0;

/**
 * Transports from the environment, read when called (never at import):
 * - email: CALLFLOW_SMTP_URL (smtp:// or smtps://), optional CALLFLOW_SMTP_USER,
 *   CALLFLOW_SMTP_PASSWORD, CALLFLOW_SMTP_INSECURE_TLS=1; without a URL, .eml files in
 *   $CALLFLOW_OUTBOX_DIR/email (default ./outbox/email).
 * - SMS: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or
 *   TWILIO_MESSAGING_SERVICE_SID, optional CALLFLOW_TWILIO_BASE_URL; without them, .json files
 *   in $CALLFLOW_OUTBOX_DIR/sms.
 */
export function transportsFromEnv(env: NodeJS.ProcessEnv): Transports {
  const dir = set(env.CALLFLOW_OUTBOX_DIR) ? env.CALLFLOW_OUTBOX_DIR : 'outbox';
  let email: EmailTransport;
  if (set(env.CALLFLOW_SMTP_URL)) {
    let url: URL;
    try {
      url = new URL(env.CALLFLOW_SMTP_URL);
    } catch {
      throw new ConfigError('CALLFLOW_SMTP_URL', 'not a URL (expected smtp://host:port or smtps://host:port)');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
      throw new ConfigError('CALLFLOW_SMTP_URL', `scheme must be smtp: or smtps: (got ${url.protocol})`);
    }
    if (url.port && !(Number(url.port) > 0 && Number(url.port) < 65536)) throw new ConfigError('CALLFLOW_SMTP_URL', 'bad port');
    email = new SmtpTransport({
      url: url.toString(),
      ...(set(env.CALLFLOW_SMTP_USER) ? { user: env.CALLFLOW_SMTP_USER } : {}),
      ...(set(env.CALLFLOW_SMTP_PASSWORD) ? { password: env.CALLFLOW_SMTP_PASSWORD } : {}),
      insecureTls: env.CALLFLOW_SMTP_INSECURE_TLS === '1',
    });
  } else {
    email = new FileEmailTransport(join(dir, 'email'));
  }

  let sms: SmsTransport;
  const sid = env.TWILIO_ACCOUNT_SID;
  if (set(sid)) {
    if (!/^AC[0-9a-zA-Z]{32}$/.test(sid)) throw new ConfigError('TWILIO_ACCOUNT_SID', 'must be "AC" followed by 32 letters or digits');
    if (!set(env.TWILIO_AUTH_TOKEN)) throw new ConfigError('TWILIO_AUTH_TOKEN', 'required with TWILIO_ACCOUNT_SID');
    const from = env.TWILIO_FROM_NUMBER;
    const service = env.TWILIO_MESSAGING_SERVICE_SID;
    if (!set(from) && !set(service)) throw new ConfigError('TWILIO_FROM_NUMBER', 'set it, or TWILIO_MESSAGING_SERVICE_SID');
    if (set(from) && !/^\+[1-9][0-9]{1,14}$/.test(from)) throw new ConfigError('TWILIO_FROM_NUMBER', 'must be an E.164 number');
    const baseUrl = env.CALLFLOW_TWILIO_BASE_URL;
    if (set(baseUrl) && !/^https?:\/\/[^/\s]+/.test(baseUrl)) throw new ConfigError('CALLFLOW_TWILIO_BASE_URL', 'must be an http(s) URL');
    sms = new TwilioTransport({
      accountSid: sid,
      authToken: env.TWILIO_AUTH_TOKEN!,
      ...(set(from) ? { from } : {}),
      ...(set(service) ? { messagingServiceSid: service } : {}),
      ...(set(baseUrl) ? { baseUrl } : {}),
    });
  } else {
    sms = new FileSmsTransport(join(dir, 'sms'));
  }
  return { email, sms };
}
