import { Worker } from 'node:worker_threads';
import type { Db } from './open-database.ts';

export interface BackgroundCheckpointOptions {
  /** How often the worker checkpoints (ms). */
  readonly intervalMs?: number;
  /**
   * The writer still checkpoints by itself once the WAL holds this many pages: a stalled or dead
   * worker must not let the WAL grow without end.
   */
  readonly backstopPages?: number;
}

/** SQLite's default wal_autocheckpoint, restored when the worker is gone. */
const INLINE_CHECKPOINT_PAGES = 1000;

/**
 * WAL checkpoints on a worker thread, off the writer's path. A checkpoint ends with two fsyncs
 * (the WAL, then the database file) that wait for every byte written since the last one; left to
 * the writer (SQLite's autocheckpoint), the commit that crosses the threshold waits for them. On
 * this VM's disk that was about 100 µs per voicemail call, spread as a few-millisecond stall every
 * forty calls. The worker's PASSIVE checkpoints never block the writer, and the fsync waits
 * happen on its thread.
 */
export class BackgroundCheckpoints {
  private stopped = false;

  private constructor(
    private readonly worker: Worker,
    private readonly db: Db,
  ) {}

  /** Starts checkpointing `db` (a WAL database opened for writing) from a worker thread. */
  static start(db: Db, opts: BackgroundCheckpointOptions = {}): BackgroundCheckpoints {
    const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { file: db.name, intervalMs: opts.intervalMs ?? 100 },
    });
    // Checkpoints are an optimisation: they must never keep a finished process alive.
    worker.unref();
    const self = new BackgroundCheckpoints(worker, db);
    db.pragma(`wal_autocheckpoint = ${opts.backstopPages ?? 10_000}`);
    const fallBack = (): void => {
      if (self.stopped || !self.db.open) return;
      self.stopped = true;
      self.db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
    return self;
  }

  /** Stops the worker; the writer checkpoints by itself again. */
  async close(): Promise<void> {
    if (!this.stopped && this.db.open) this.db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
    this.stopped = true;
    await this.worker.terminate();
  }
}
