import { Worker } from 'node:worker_threads';
import { EngineError } from '../../engine/errors.ts';
import type { Logger } from '../../engine/execution.ts';
import type { Db } from '../sqlite/open-database.ts';
import { OutboxStore } from '../sqlite/outbox-store.ts';
import type { DrainResult } from './dispatcher.ts';
import { DurableOutbox, type Kickable } from './durable-outbox.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './outbox-worker.ts';

class OutboxWorkerError extends EngineError {
  readonly kind = 'outbox_worker';
}

/** The main thread's handle on the outbox worker: wake it, wait for it to drain, stop it. */
export class OutboxWorker implements Kickable {
  private seq = 0;
  private readonly drains = new Map<number, { resolve(r: DrainResult): void; reject(e: Error): void }>();
  private closed: Promise<void> | undefined;
  private gone: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromWorker) => {
      const waiter = 'id' in m ? this.drains.get(m.id) : undefined;
      if (m.type === 'drained') waiter?.resolve({ pending: m.pending, sent: m.sent, failed: m.failed });
      if (m.type === 'drain_failed') waiter?.reject(new OutboxWorkerError(`outbox: ${m.message}`));
      if ('id' in m) this.drains.delete(m.id);
    });
    // A worker that dies must not leave anyone waiting on it: the messages stay in the outbox.
    worker.on('exit', (code) => {
      this.gone ??= new OutboxWorkerError(`the outbox worker stopped (exit ${code}); undelivered messages stay pending`);
      for (const w of this.drains.values()) w.reject(this.gone);
      this.drains.clear();
    });
  }

  static async start(settings: WorkerSettings, logger?: Logger): Promise<OutboxWorker> {
    const worker = new Worker(new URL('./outbox-worker-entry.js', import.meta.url), { workerData: settings });
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'log') logger?.warn(m.line);
    });
    const ready = await new Promise<FromWorker>((resolve, reject) => {
      worker.once('error', reject);
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'ready' || m.type === 'error') {
          worker.off('message', onMessage);
          resolve(m);
        }
      };
      worker.on('message', onMessage);
    });
    if (ready.type === 'error') {
      await worker.terminate();
      throw new OutboxWorkerError(`outbox worker: ${ready.message}`);
    }
    const client = new OutboxWorker(worker);
    worker.on('error', (err: unknown) => {
      client.gone = new OutboxWorkerError(`the outbox worker failed: ${err instanceof Error ? err.message : String(err)}`);
      logger?.warn(client.gone.message);
    });
    return client;
  }

  kick(): void {
    if (!this.gone) this.send({ type: 'kick' });
  }

  drain(timeoutMs: number): Promise<DrainResult> {
    if (this.gone) return Promise.reject(this.gone);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.drains.set(id, { resolve, reject });
      this.send({ type: 'drain', id, timeoutMs });
    });
  }

  close(): Promise<void> {
    this.closed ??= this.gone
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.worker.once('exit', () => resolve());
          this.send({ type: 'close' });
        });
    return this.closed;
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }
}

/** Durable enqueue on the caller's connection; delivery on the worker. */
export async function startOutboxWorker(db: Db, settings: WorkerSettings, logger?: Logger): Promise<{ outbox: DurableOutbox; worker: OutboxWorker }> {
  const worker = await OutboxWorker.start(settings, logger);
  return { outbox: new DurableOutbox(new OutboxStore(db, Date), worker), worker };
}
