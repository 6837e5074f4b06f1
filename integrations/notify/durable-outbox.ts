import type { OutboundMessage, Outbox, OutboxReceipt } from '../../engine/outbox.ts';
import type { OutboxStore } from '../sqlite/outbox-store.ts';

/** Whatever delivers: the dispatcher in this thread, or the outbox worker. */
export interface Kickable {
  kick(): void;
}

/** The engine's Outbox: store first (durable), then wake whoever delivers. */
export class DurableOutbox implements Outbox {
  constructor(
    private readonly store: OutboxStore,
    private readonly dispatcher: Kickable,
  ) {}

  enqueue(executionId: string, callTime: number, messages: readonly OutboundMessage[]): OutboxReceipt[] {
    const receipts = this.store.enqueue(executionId, callTime, messages);
    // After the current synchronous work: the enqueue may sit inside a larger transaction (a
    // voicemail message and its emails commit together), and a dispatcher on another connection
    // must not look before that commits.
    if (receipts.some((r) => !r.duplicate)) queueMicrotask(() => this.dispatcher.kick());
    return receipts;
  }
}
