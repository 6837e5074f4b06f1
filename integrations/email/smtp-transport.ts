import nodemailer, { type Transporter } from 'nodemailer';
import type { DeliveryResult, EmailDelivery, EmailTransport } from '../notify/transport.ts';
import { mailOptions, NO_SENDER } from './compose-mail.ts';
import { isLoopbackHost } from '../notify/loopback.ts';

export interface SmtpSettings {
  /** smtp://host:port or smtps://host:port (credentials in the URL or below). */
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  /** Accept a self-signed certificate (lab servers). */
  readonly insecureTls?: boolean;
  readonly maxConnections?: number;
  /** Sender for templates without a `from` (CALLFLOW_MAIL_FROM). */
  readonly defaultFrom?: string;
}

const NETWORK = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EDNS', 'EPIPE', 'EHOSTUNREACH']);

/**
 * SMTP is "temporary or permanent" by reply class: 4xx and network trouble are worth another
 * try; 5xx (a recipient refused, a message rejected) is final.
 */
export function classifySmtpError(err: unknown): DeliveryResult {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const reason = (e.response ?? e.message ?? String(err)).split('\n')[0]!;
  if (typeof e.responseCode === 'number') {
    return { ok: false, temporary: e.responseCode < 500, code: String(e.responseCode), reason };
  }
  return { ok: false, temporary: e.code === undefined || NETWORK.has(e.code), code: e.code ?? null, reason };
}

/** Email over SMTP with nodemailer, pooled connections. */
export class SmtpTransport implements EmailTransport {
  readonly description: string;
  private readonly mailer: Transporter;
  private readonly defaultFrom: string | undefined;

  constructor(s: SmtpSettings) {
    this.defaultFrom = s.defaultFrom;
    const url = new URL(s.url);
    const user = s.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const pass = s.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    this.mailer = nodemailer.createTransport({
      pool: true,
      maxConnections: s.maxConnections ?? 4,
      maxMessages: Infinity,
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 25,
      secure: url.protocol === 'smtps:',
      ...(user ? { auth: { user, pass: pass ?? '' } } : {}),
      // Credentials never go over an unencrypted link beyond this machine: STARTTLS is required.
      ...(user && url.protocol === 'smtp:' && !isLoopbackHost(url.hostname) ? { requireTLS: true } : {}),
      ...(s.insecureTls ? { tls: { rejectUnauthorized: false } } : {}),
      connectionTimeout: 10_000,
      socketTimeout: 30_000,
    });
    // Never the password: this string goes to logs.
    this.description = `smtp ${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 25)}${user ? ' (authenticated)' : ''}`;
  }

  async send(d: EmailDelivery): Promise<DeliveryResult> {
    const options = mailOptions(d, this.defaultFrom);
    if (!options) return { ok: false, temporary: false, code: null, reason: NO_SENDER };
    try {
      const info = await this.mailer.sendMail(options);
      if (info.rejected && info.rejected.length > 0) {
        return { ok: false, temporary: false, code: null, reason: `recipient rejected: ${String(info.rejected[0])}` };
      }
      return { ok: true, providerId: String(info.messageId ?? '') };
    } catch (err) {
      return classifySmtpError(err);
    }
  }

  close(): void {
    this.mailer.close();
  }
}
