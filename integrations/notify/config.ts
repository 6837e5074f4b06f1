import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../../engine/errors.ts';
import type { EmailTransport, SmsTransport } from './transport.ts';
import { isLoopbackHost } from './loopback.ts';
import { isSafeEmail } from '../../modules/notification/addresses.ts';

/** A configuration value that cannot be used: names the variable, never its secret value. */
export class ConfigError extends EngineError {
  readonly kind = 'config_invalid';
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Checked, plain-data settings (they cross to the outbox worker as they are). */
export interface NotificationSettings {
  readonly email: (
    | { readonly kind: 'smtp'; readonly url: string; readonly user?: string; readonly password?: string; readonly insecureTls: boolean }
    | { readonly kind: 'files'; readonly dir: string }
  ) & { readonly defaultFrom?: string };
  readonly sms:
    | {
        readonly kind: 'twilio';
        readonly accountSid: string;
        readonly authToken: string;
        readonly from?: string;
        readonly messagingServiceSid?: string;
        readonly baseUrl?: string;
      }
    | { readonly kind: 'files'; readonly dir: string };
}

export interface Transports {
  readonly email: EmailTransport;
  readonly sms: SmsTransport;
}

const set = (v: string | undefined): v is string => v !== undefined && v.trim().length > 0;

/**
 * Reads the environment when called (never at import):
 * - email: CALLFLOW_SMTP_URL (smtp:// or smtps://), optional CALLFLOW_SMTP_USER,
 *   CALLFLOW_SMTP_PASSWORD, CALLFLOW_SMTP_INSECURE_TLS=1; without a URL, .eml files in
 *   $CALLFLOW_OUTBOX_DIR/email (default ./outbox/email). CALLFLOW_MAIL_FROM: the sender when a
 *   template has no `from`.
 * - SMS: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or
 *   TWILIO_MESSAGING_SERVICE_SID, optional CALLFLOW_TWILIO_BASE_URL; without them, .json files
 *   in $CALLFLOW_OUTBOX_DIR/sms.
 */
export function notificationSettings(env: NodeJS.ProcessEnv): NotificationSettings {
  const dir = set(env.CALLFLOW_OUTBOX_DIR) ? env.CALLFLOW_OUTBOX_DIR : 'outbox';
  const defaultFrom = env.CALLFLOW_MAIL_FROM;
  // The rule a template's `from` is held to: nodemailer reads a looser value as something else
  // ("ops,boss@corp.example" made the envelope sender "ops").
  if (set(defaultFrom) && !isSafeEmail(defaultFrom)) throw new ConfigError('CALLFLOW_MAIL_FROM', 'must be one plain email address');
  const sender = set(defaultFrom) ? { defaultFrom } : {};
  // A setting that only means something beside another is an error on its own: it would be
  // silently ignored, and mail would go somewhere the operator did not intend.
  for (const name of ['CALLFLOW_SMTP_USER', 'CALLFLOW_SMTP_PASSWORD', 'CALLFLOW_SMTP_INSECURE_TLS']) {
    if (set(env[name]) && !set(env.CALLFLOW_SMTP_URL)) throw new ConfigError(name, 'only means something with CALLFLOW_SMTP_URL, which is not set');
  }
  for (const name of ['TWILIO_AUTH_TOKEN', 'TWILIO_FROM_NUMBER', 'TWILIO_MESSAGING_SERVICE_SID', 'CALLFLOW_TWILIO_BASE_URL']) {
    if (set(env[name]) && !set(env.TWILIO_ACCOUNT_SID)) throw new ConfigError(name, 'only means something with TWILIO_ACCOUNT_SID, which is not set');
  }
  let email: NotificationSettings['email'] = { kind: 'files', dir: join(dir, 'email'), ...sender };
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
    // Without one, nodemailer would quietly try localhost:25.
    if (!url.hostname) throw new ConfigError('CALLFLOW_SMTP_URL', 'no host (expected smtp://host:port or smtps://host:port)');
    const insecure = env.CALLFLOW_SMTP_INSECURE_TLS ?? '';
    if (!['', '0', '1'].includes(insecure.trim())) throw new ConfigError('CALLFLOW_SMTP_INSECURE_TLS', 'must be 1 (accept any certificate) or 0');
    if (set(env.CALLFLOW_SMTP_PASSWORD) && !set(env.CALLFLOW_SMTP_USER) && !url.username) {
      throw new ConfigError('CALLFLOW_SMTP_PASSWORD', 'set without a user (CALLFLOW_SMTP_USER, or one in CALLFLOW_SMTP_URL)');
    }
    // With no user the transport does not authenticate at all: the password would be dropped.
    if (url.password && !url.username && !set(env.CALLFLOW_SMTP_USER)) {
      throw new ConfigError('CALLFLOW_SMTP_URL', 'has a password but no user (put one in the URL, or set CALLFLOW_SMTP_USER)');
    }
    // The transport decodes them when it connects: a bad escape must stop the start, named here.
    for (const [part, value] of [['user', url.username], ['password', url.password]] as const) {
      try {
        decodeURIComponent(value);
      } catch {
        throw new ConfigError('CALLFLOW_SMTP_URL', `the ${part} is not valid percent-encoding (write a literal % as %25)`);
      }
    }
    email = {
      kind: 'smtp',
      url: url.toString(),
      ...(set(env.CALLFLOW_SMTP_USER) ? { user: env.CALLFLOW_SMTP_USER } : {}),
      ...(set(env.CALLFLOW_SMTP_PASSWORD) ? { password: env.CALLFLOW_SMTP_PASSWORD } : {}),
      insecureTls: insecure.trim() === '1',
      ...sender,
    };
  }

  let sms: NotificationSettings['sms'] = { kind: 'files', dir: join(dir, 'sms') };
  const sid = env.TWILIO_ACCOUNT_SID;
  if (set(sid)) {
    if (!/^AC[0-9a-zA-Z]{32}$/.test(sid)) throw new ConfigError('TWILIO_ACCOUNT_SID', 'must be "AC" followed by 32 letters or digits');
    if (!set(env.TWILIO_AUTH_TOKEN)) throw new ConfigError('TWILIO_AUTH_TOKEN', 'required with TWILIO_ACCOUNT_SID');
    const from = env.TWILIO_FROM_NUMBER;
    const service = env.TWILIO_MESSAGING_SERVICE_SID;
    if (!set(from) && !set(service)) throw new ConfigError('TWILIO_FROM_NUMBER', 'set it, or TWILIO_MESSAGING_SERVICE_SID');
    if (set(from) && !/^\+[1-9][0-9]{1,14}$/.test(from)) throw new ConfigError('TWILIO_FROM_NUMBER', 'must be an E.164 number');
    if (set(service) && !/^MG[0-9a-zA-Z]{32}$/.test(service)) {
      throw new ConfigError('TWILIO_MESSAGING_SERVICE_SID', 'must be "MG" followed by 32 letters or digits');
    }
    const baseUrl = env.CALLFLOW_TWILIO_BASE_URL;
    if (set(baseUrl)) {
      let u: URL;
      try {
        u = new URL(baseUrl);
      } catch {
        throw new ConfigError('CALLFLOW_TWILIO_BASE_URL', 'must be an http(s) URL');
      }
      // The auth token travels in every request: plain http only to this machine.
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
        throw new ConfigError('CALLFLOW_TWILIO_BASE_URL', 'must be https (http only for a server on this machine)');
      }
      // The base URL is printed (which server messages go to): it may not carry credentials.
      if (u.username || u.password) {
        throw new ConfigError('CALLFLOW_TWILIO_BASE_URL', 'must not contain a user or password (the account comes from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)');
      }
    }
    sms = {
      kind: 'twilio',
      accountSid: sid,
      authToken: env.TWILIO_AUTH_TOKEN!,
      ...(set(from) ? { from } : {}),
      ...(set(service) ? { messagingServiceSid: service } : {}),
      ...(set(baseUrl) ? { baseUrl } : {}),
    };
  }
  if (email.kind === 'files' || sms.kind === 'files') usableFolder(dir);
  return { email, sms };
}

/**
 * The file transports' folder must be one this process can write in: found out per message, a
 * file in its place (ENOTDIR) looked temporary, was retried for minutes and failed in the end.
 */
function usableFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'is not a folder' : code === 'EACCES' ? 'is not writable' : `cannot be used (${code ?? (err as Error).message})`;
    throw new ConfigError('CALLFLOW_OUTBOX_DIR', `${dir} ${why}`);
  }
}

/** Builds the transports; each library (nodemailer, twilio) loads only if that transport is used. */
export async function buildTransports(s: NotificationSettings): Promise<Transports> {
  let email: EmailTransport;
  if (s.email.kind === 'smtp') {
    const { SmtpTransport } = await import('../email/smtp-transport.ts');
    const { kind: _k, ...smtp } = s.email;
    email = new SmtpTransport(smtp);
  } else {
    const { FileEmailTransport } = await import('../email/file-transport.ts');
    email = new FileEmailTransport(s.email.dir, s.email.defaultFrom);
  }
  let sms: SmsTransport;
  if (s.sms.kind === 'twilio') {
    const { TwilioTransport } = await import('../sms/twilio-transport.ts');
    const { kind: _k, ...twilio } = s.sms;
    sms = new TwilioTransport(twilio);
  } else {
    const { FileSmsTransport } = await import('../sms/file-transport.ts');
    sms = new FileSmsTransport(s.sms.dir);
  }
  return { email, sms };
}

/** Where messages go, in words safe for logs (no credentials). */
export function describeSettings(s: NotificationSettings): { email: string; sms: string } {
  const email = s.email.kind === 'smtp' ? `smtp ${new URL(s.email.url).host}${s.email.user || new URL(s.email.url).username ? ' (authenticated)' : ''}` : `.eml files in ${s.email.dir}`;
  const sms = s.sms.kind === 'twilio' ? `twilio ${s.sms.baseUrl ?? 'api.twilio.com'}` : `.json files in ${s.sms.dir}`;
  return { email, sms };
}
