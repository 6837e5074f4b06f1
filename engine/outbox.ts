/**
 * Where modules hand messages that must be delivered (email, SMS). The engine only knows this
 * interface; the durable SQLite outbox and its transports live in integrations/.
 */

export type Medium = 'email' | 'sms';

export interface OutboundEmail {
  /** Absent: the transport's configured sender (CALLFLOW_MAIL_FROM). */
  readonly from?: string;
  readonly replyTo?: string;
  /** Header lists; the envelope recipient is `OutboundMessage.recipient`. */
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  /** Files read when the message is sent (a voicemail's audio). */
  readonly attachments?: readonly EmailAttachment[];
}

export interface EmailAttachment {
  readonly filename: string;
  readonly path: string;
  readonly contentType: string;
}

/**
 * Work to do once every message an execution queued with the same `afterDelivery` has settled
 * (all sent, or one failed for good): e.g. voicemail's after-notify save/delete, which KAZOO applies only
 * when the email went out. `kind` names a handler registered with the outbox store.
 */
export interface AfterDelivery {
  readonly kind: string;
  readonly args: Readonly<Record<string, string | number>>;
}

export interface OutboundSms {
  readonly body: string;
}

export interface OutboundMessage {
  /** Same key, same message: enqueueing it again is a no-op, and delivery happens once. */
  readonly idempotencyKey: string;
  readonly medium: Medium;
  /** One envelope recipient: an email address, or an E.164 number for SMS. */
  readonly recipient: string;
  readonly templateId: string;
  /** Identifies the node (module + data) that produced it. */
  readonly nodeKey: string;
  readonly email?: OutboundEmail;
  readonly sms?: OutboundSms;
  readonly afterDelivery?: AfterDelivery;
}

export interface OutboxReceipt {
  readonly id: number;
  readonly idempotencyKey: string;
  /** Already queued before (an identical node, or a replay): nothing new was stored. */
  readonly duplicate: boolean;
}

export interface Outbox {
  /** Stores the messages durably (before any delivery is tried) and returns at once. */
  enqueue(executionId: string, callTime: number, messages: readonly OutboundMessage[]): OutboxReceipt[];
}
