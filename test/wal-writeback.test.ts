import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { WalWriteback } from '../integrations/sqlite/wal-writeback.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { tempDir } from './support/sim.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The real fdatasync, watched: which file each default flush reached (read while its fd is open).
const flushed = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fdatasync = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
    const { dev, ino } = fs.fstatSync(fd);
    flushed.push(`${dev}:${ino}`);
    fs.fdatasync(fd, done);
  };
  return { ...fs, fdatasync, default: { ...fs, fdatasync } };
});

describe('WAL writeback', () => {
  it('flushes the WAL file in the background, one flush at a time, and raises the checkpoint interval', async () => {
    const db = openDatabase(join(tempDir(), 'wb.db'));
    const fds = new Set<number>();
    let calls = 0;
    let inFlight = 0;
    let overlapped = false;
    const wb = WalWriteback.start(db, {
      intervalMs: 5,
      // A slow disk: each flush takes 30 ms, so ticks come while one is running.
      flush: (fd, done) => {
        calls++;
        fds.add(fd);
        if (++inFlight > 1) overlapped = true;
        setTimeout(() => {
          inFlight--;
          done(null);
        }, 30);
      },
    });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    db.exec('CREATE TABLE t (x TEXT)');
    // Polled, not slept: a loaded machine may tick late, but it must keep flushing, one at a time
    // (so never more than one per 30 ms flush, though ticks come every 5 ms).
    const t0 = Date.now();
    while (calls < 3 && Date.now() < t0 + 5000) await wait(10);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(Math.ceil((Date.now() - t0) / 30) + 1);
    expect(overlapped).toBe(false);
    expect(fds.size).toBe(1);
    await wb.close();
    const after = calls;
    await wait(50);
    expect(calls).toBe(after);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    db.close();
  });

  it('with the real fdatasync, a busy writer keeps every row', async () => {
    const file = join(tempDir(), 'real.db');
    const db = openDatabase(file);
    const wb = WalWriteback.start(db, { intervalMs: 5 });
    db.exec('CREATE TABLE t (x TEXT)');
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    for (let i = 0; i < 50; i++) {
      db.transaction(() => {
        for (let j = 0; j < 100; j++) insert.run('y'.repeat(500));
      })();
      await wait(1);
    }
    await wb.close();
    // The default flush is the real one, on the WAL file (gone once the last connection closes).
    const { dev, ino } = statSync(`${file}-wal`);
    expect(flushed.length).toBeGreaterThan(0);
    expect(new Set(flushed)).toEqual(new Set([`${dev}:${ino}`]));
    db.close();
    const again = openDatabase(file);
    expect(again.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 5000 });
    again.close();
  });
});
