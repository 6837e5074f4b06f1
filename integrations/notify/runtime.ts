import type { Logger } from '../../engine/execution.ts';
import type { Db } from '../sqlite/open-database.ts';
import { OutboxStore } from '../sqlite/outbox-store.ts';
import { OutboxDispatcher, type RetryPolicy } from './dispatcher.ts';
import { DurableOutbox } from './durable-outbox.ts';
import type { Transports } from './config.ts';

export interface NotificationRuntime {
  readonly store: OutboxStore;
  readonly dispatcher: OutboxDispatcher;
  readonly outbox: DurableOutbox;
}

/** The outbox on a step-log database, with its dispatcher started (resuming anything pending). */
export function startNotifications(
  db: Db,
  transports: Transports,
  opts: { retry?: RetryPolicy; logger?: Logger; concurrency?: number; wall?: { now(): number } } = {},
): NotificationRuntime {
  const wall = opts.wall ?? Date;
  const store = new OutboxStore(db, wall);
  const dispatcher = new OutboxDispatcher(store, {
    email: transports.email,
    sms: transports.sms,
    wall,
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
  });
  dispatcher.start();
  return { store, dispatcher, outbox: new DurableOutbox(store, dispatcher) };
}
