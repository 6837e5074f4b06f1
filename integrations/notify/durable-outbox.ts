import type { OutboundMessage, Outbox, OutboxReceipt } from '../../engine/outbox.ts';
import type { OutboxStore } from '../sqlite/outbox-store.ts';
import type { OutboxDispatcher } from './dispatcher.ts';

/** The engine's Outbox: store first (durable), then wake the dispatcher. */
export class DurableOutbox implements Outbox {
  constructor(
    private readonly store: OutboxStore,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  enqueue(executionId: string, callTime: number, messages: readonly OutboundMessage[]): OutboxReceipt[] {
    const receipts = this.store.enqueue(executionId, callTime, messages);
    if (receipts.some((r) => !r.duplicate)) this.dispatcher.kick();
    return receipts;
  }
}
