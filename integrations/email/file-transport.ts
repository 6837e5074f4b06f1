import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { messageFileName } from '../notify/file-name.ts';
import type { DeliveryResult, EmailDelivery, EmailTransport } from '../notify/transport.ts';
import { mailOptions, NO_SENDER } from './compose-mail.ts';

/**
 * The embedded default when no SMTP server is configured: each message is built by nodemailer
 * exactly as it would be sent, and written as an .eml file into a folder.
 */
export class FileEmailTransport implements EmailTransport {
  readonly description: string;
  private readonly mailer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(
    private readonly dir: string,
    private readonly defaultFrom?: string,
  ) {
    this.description = `.eml files in ${dir}`;
  }

  async send(d: EmailDelivery): Promise<DeliveryResult> {
    const options = mailOptions(d, this.defaultFrom);
    if (!options) return { ok: false, temporary: false, code: null, reason: NO_SENDER };
    try {
      const info = await this.mailer.sendMail(options);
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, messageFileName(d.outboxId, d.recipient, d.idempotencyKey, d.email, 'eml'));
      writeFileSync(file, info.message as Buffer);
      return { ok: true, providerId: file };
    } catch (err) {
      // A full disk may clear; a message nodemailer cannot build will not.
      const code = (err as NodeJS.ErrnoException).code ?? null;
      return { ok: false, temporary: code !== null, code, reason: (err as Error).message.split('\n')[0]! };
    }
  }

  close(): void {}
}
