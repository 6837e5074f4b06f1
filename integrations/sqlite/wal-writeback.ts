import { close, existsSync, fdatasync, openSync } from 'node:fs';
import type { Db } from './open-database.ts';

export interface WalWritebackOptions {
  /** How often the WAL is flushed in the background (ms). */
  readonly intervalMs?: number;
  /** The writer's wal_autocheckpoint while this runs (pages). */
  readonly checkpointPages?: number;
  /** The flush itself (fs.fdatasync, on libuv's thread pool); tests count it. */
  readonly flush?: (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;
}

/** SQLite's default wal_autocheckpoint, restored on close. */
const DEFAULT_CHECKPOINT_PAGES = 1000;

/**
 * Keeps a busy writer's commits from waiting on the disk. With synchronous=NORMAL a commit only
 * writes the WAL; the disk wait comes at the checkpoint, whose first fsync flushes every WAL byte
 * written since the last one, inside whichever commit crossed the threshold (on this VM's disk
 * about 1 ms per MB: a few-millisecond stall every forty voicemail calls). Here the WAL is flushed
 * in the background every `intervalMs` (fdatasync on libuv's thread pool, never on the event
 * loop), so the checkpoint's own fsync finds little left to do; and checkpoints come every
 * 10,000 pages instead of 1,000, so the pages a busy writer rewrites (the right edge of each
 * index) are copied into the database file once instead of ten times. Durability is unchanged:
 * the flushes are extra.
 */
export class WalWriteback {
  private fd: number | undefined;
  private busy: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly db: Db,
    intervalMs: number,
    private readonly flush: NonNullable<WalWritebackOptions['flush']>,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    // Flushing is an optimisation: it must never keep a finished process alive.
    this.timer.unref();
  }

  /** Starts on `db`, a WAL database opened for writing (nothing to do for one in memory). */
  static start(db: Db, opts: WalWritebackOptions = {}): WalWriteback {
    db.pragma(`wal_autocheckpoint = ${opts.checkpointPages ?? 10_000}`);
    return new WalWriteback(db, opts.intervalMs ?? 50, opts.flush ?? fdatasync);
  }

  private tick(): void {
    if (this.busy || this.closed) return;
    if (this.fd === undefined) {
      const wal = `${this.db.name}-wal`;
      if (this.db.memory || !existsSync(wal)) return;
      this.fd = openSync(wal, 'r');
    }
    const fd = this.fd;
    this.busy = new Promise<void>((resolve) => {
      // A failed flush loses nothing (the checkpoint still syncs); the next tick tries again.
      this.flush(fd, () => resolve());
    }).finally(() => {
      this.busy = undefined;
    });
  }

  /** Stops flushing and gives the writer SQLite's default checkpoints back. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.busy;
    if (this.fd !== undefined) close(this.fd, () => {});
    this.fd = undefined;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_CHECKPOINT_PAGES}`);
  }
}
