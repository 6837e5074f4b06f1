import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackgroundCheckpoints } from '../integrations/sqlite/background-checkpoints.ts';
import { openDatabase, type Db } from '../integrations/sqlite/open-database.ts';
import { tempDir } from './support/sim.ts';

/** About 4 MB of rows, committed in small transactions as a busy writer does. */
function write(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO blobs (body) VALUES (?)');
  const many = db.transaction((n: number) => {
    for (let i = 0; i < n; i++) insert.run('x'.repeat(2000));
  });
  for (let t = 0; t < 100; t++) many(20);
}

const until = async (ok: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (ok()) return true;
  return ok();
};

describe('WAL checkpoints on a worker thread', () => {
  it('the worker copies the WAL into the database file while the writer only writes', async () => {
    const file = join(tempDir(), 'bg.db');
    const db = openDatabase(file);
    const bg = BackgroundCheckpoints.start(db, { intervalMs: 20 });
    write(db);
    // Without the worker nothing would reach the database file: the writer's backstop (10,000
    // pages) is far above these ~1,000 pages (the control below shows it).
    expect(await until(() => statSync(file).size > 3_000_000, 3000)).toBe(true);
    await bg.close();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    db.close();
  });

  it('control: with the writer at the same backstop and no worker, the database file stays small', async () => {
    const file = join(tempDir(), 'control.db');
    const db = openDatabase(file);
    db.pragma('wal_autocheckpoint = 10000');
    write(db);
    await new Promise((r) => setTimeout(r, 300));
    expect(statSync(file).size).toBeLessThan(1_000_000);
    db.close();
  });

  it('when the worker cannot run, the writer checkpoints by itself again', async () => {
    const db = openDatabase(join(tempDir(), 'gone.db'));
    const bg = BackgroundCheckpoints.start(db, { intervalMs: 20 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    await (bg as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect(await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === 1000, 2000)).toBe(true);
    db.close();
  });
});
