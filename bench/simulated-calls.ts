import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { createRegistry } from '../modules/index.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { runRepeated } from '../integrations/simulator/run-batch.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { WalWriteback } from '../integrations/sqlite/wal-writeback.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import { SqliteVoicemailStore } from '../integrations/sqlite/voicemail-store.ts';
import type { Outbox } from '../engine/outbox.ts';
import { benchDataRoot } from './data-root.ts';
import { maxRssBytes, MB } from './format.ts';

export interface CallsResult {
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly peakRssMb: number;
  readonly heapMb: number;
  readonly dbMb: number;
  /** Voicemail messages stored in this round, and the audio kept with them. */
  readonly messages: number;
  readonly mediaMb: number;
}

const here = new URL('.', import.meta.url).pathname;

/**
 * Folders of finished runs, removed by `removeBenchFiles` once the flow is measured (bench/run.ts
 * keeps them until every section is done: deleting tens of thousands of files makes the next
 * minutes' file creations on this VM's disk several times dearer).
 */
const leftBehind: string[] = [];

export function removeBenchFiles(): void {
  for (const dir of leftBehind.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Simulated calls of one scenario file (seeds 1, 2, ...), `rounds` batches in one process,
 * every execution written to a SQLite step log on disk.
 */
export async function benchSimulatedCalls(
  scenarioFile: string,
  rounds: readonly number[],
  expectedSteps: number,
  opts: { readonly mediaRoot?: string } = {},
): Promise<CallsResult[]> {
  const registry = createRegistry();
  const loaded = loadScenario(join(here, scenarioFile), { registry, validator: new SchemaValidator() });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const dir = mkdtempSync(join(benchDataRoot(), 'cf-bench-'));
  // Audio may go elsewhere (a memory-backed folder) while the step log stays on disk.
  const mediaDir = opts.mediaRoot ? mkdtempSync(join(opts.mediaRoot, 'cf-bench-media-')) : dir;
  const file = join(dir, 'steps.db');
  const db = openDatabase(file);
  // As `simulate` and `serve` run it: the WAL flushed in the background (see wal-writeback.ts).
  const writeback = WalWriteback.start(db);
  const sink = new SqliteTraceSink(db, { groupCommit: 100 });
  // Notifications are queued durably, as in any run; their delivery is measured on its own.
  const store = new OutboxStore(db, Date);
  const outbox: Outbox = { enqueue: (id, at, messages) => store.enqueue(id, at, messages) };
  // Recordings and voicemail audio are real files, as in any run.
  const voicemail = new SqliteVoicemailStore(db, join(mediaDir, 'voicemail'));
  const recordingDir = join(mediaDir, 'recordings');
  const media = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(media_bytes), 0) AS b FROM voicemail_messages');
  let before = { n: 0, b: 0 };
  const out: CallsResult[] = [];
  let done = 0;
  let failed = 0;
  for (const calls of rounds) {
    const t0 = performance.now();
    await runRepeated({ ...loaded.value, scenario: { ...loaded.value.scenario, seed: done + 1 } }, calls, { registry, sink, outbox, voicemail, recordingDir }, {
      concurrency: 8,
      onResult: (s) => {
        if (s.status !== 'completed' || s.steps !== expectedSteps) failed++;
      },
    });
    sink.flush();
    const seconds = (performance.now() - t0) / 1000;
    done += calls;
    const size = db.prepare('SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()').get() as { b: number };
    const now = media.get() as { n: number; b: number };
    out.push({
      calls,
      seconds,
      callsPerSecond: calls / seconds,
      peakRssMb: maxRssBytes() / MB,
      heapMb: process.memoryUsage().heapUsed / MB,
      dbMb: size.b / MB,
      messages: now.n - before.n,
      mediaMb: (now.b - before.b) / MB,
    });
    before = now;
  }
  const recorded = (db.prepare('SELECT COUNT(*) AS n FROM executions WHERE status = ?').get('completed') as { n: number }).n;
  const failedEffects = (db.prepare("SELECT COUNT(*) AS n FROM effects WHERE status = 'failed'").get() as { n: number }).n;
  if (failedEffects > 0) throw new Error(`bench calls went wrong: ${failedEffects} post-hangup effects failed`);
  await writeback.close();
  db.close();
  leftBehind.push(dir);
  if (mediaDir !== dir) leftBehind.push(mediaDir);
  if (failed > 0 || recorded !== done) throw new Error(`bench calls went wrong: ${failed} unexpected, ${recorded}/${done} recorded`);
  return out;
}
