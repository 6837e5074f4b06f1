import { createHash } from 'node:crypto';
import type { OutboundEmail, OutboundSms } from '../../engine/outbox.ts';

/** What a transport says about one delivery attempt. */
export type DeliveryResult =
  | { readonly ok: true; readonly providerId: string }
  | { readonly ok: false; readonly temporary: boolean; readonly code: string | null; readonly reason: string };

export interface EmailDelivery {
  readonly outboxId: number;
  readonly idempotencyKey: string;
  readonly executionId: string;
  readonly recipient: string;
  readonly email: OutboundEmail;
}

export interface SmsDelivery {
  readonly outboxId: number;
  readonly idempotencyKey: string;
  readonly recipient: string;
  readonly sms: OutboundSms;
}

export interface EmailTransport {
  readonly description: string;
  send(d: EmailDelivery): Promise<DeliveryResult>;
  close(): void;
}

export interface SmsTransport {
  readonly description: string;
  send(d: SmsDelivery): Promise<DeliveryResult>;
  close(): void;
}

/** The same idempotency key always gives the same Message-ID, so a repeat is the same message. */
export function messageIdFor(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@callflow-engine>`;
}
