// The outbox dispatcher on its own thread: delivery I/O (SMTP dialogues, HTTP to Twilio) never
// waits behind call handling, and call handling never waits on it. It opens its own connection
// to the same SQLite file (WAL lets both write, one short transaction at a time).
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../sqlite/open-database.ts';
import { buildTransports, type NotificationSettings } from './config.ts';
import { startNotifications } from './runtime.ts';
import type { RetryPolicy } from './dispatcher.ts';

export interface WorkerSettings {
  readonly dbFile: string;
  readonly notifications: NotificationSettings;
  readonly retry?: RetryPolicy;
  readonly concurrency?: number;
}

export type ToWorker = { type: 'kick' } | { type: 'drain'; id: number; timeoutMs: number } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'drained'; id: number; pending: number; sent: number; failed: number }
  | { type: 'drain_failed'; id: number; message: string }
  | { type: 'log'; line: string }
  | { type: 'error'; message: string }
  | { type: 'closed' };

const port = parentPort!;
const settings = workerData as WorkerSettings;
const post = (m: FromWorker): void => port.postMessage(m);

try {
  const transports = await buildTransports(settings.notifications);
  const db = openDatabase(settings.dbFile);
  const log = (line: string): void => post({ type: 'log', line });
  const rt = startNotifications(db, transports, {
    logger: { info: log, warn: log },
    ...(settings.retry ? { retry: settings.retry } : {}),
    ...(settings.concurrency ? { concurrency: settings.concurrency } : {}),
  });
  port.on('message', (m: ToWorker) => {
    if (m.type === 'kick') rt.dispatcher.kick();
    else if (m.type === 'drain') {
      rt.dispatcher.drain(m.timeoutMs).then(
        (r) => post({ type: 'drained', id: m.id, ...r }),
        (err: unknown) => post({ type: 'drain_failed', id: m.id, message: err instanceof Error ? err.message : String(err) }),
      );
    }
    else if (m.type === 'close') {
      void rt.dispatcher.close().then(() => {
        db.close();
        post({ type: 'closed' });
        port.close();
      });
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'error', message: (err as Error).message });
  port.close();
}
