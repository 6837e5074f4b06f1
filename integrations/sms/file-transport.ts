import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageFileName } from '../notify/file-name.ts';
import type { DeliveryResult, SmsDelivery, SmsTransport } from '../notify/transport.ts';

/** The embedded default when Twilio is not configured: each SMS becomes a JSON file in a folder. */
export class FileSmsTransport implements SmsTransport {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `.json files in ${dir}`;
  }

  async send(d: SmsDelivery): Promise<DeliveryResult> {
    try {
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, messageFileName(d.outboxId, d.recipient, d.idempotencyKey, d.sms, 'json'));
      writeFileSync(file, JSON.stringify({ to: d.recipient, body: d.sms.body, idempotency_key: d.idempotencyKey }, null, 2) + '\n');
      return { ok: true, providerId: file };
    } catch (err) {
      return { ok: false, temporary: true, code: (err as NodeJS.ErrnoException).code ?? null, reason: (err as Error).message };
    }
  }

  close(): void {}
}
