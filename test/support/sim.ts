import { afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SchemaValidator } from '../../engine/documents/validator.ts';
import type { ExecutionSummary } from '../../engine/execution.ts';
import type { ModuleRegistry } from '../../engine/module.ts';
import { FixedClock, SeededIds } from '../../engine/providers.ts';
import { loadScenario } from '../../integrations/simulator/load-scenario.ts';
import { runScenario } from '../../integrations/simulator/run-scenario.ts';
import { openDatabase, type Db } from '../../integrations/sqlite/open-database.ts';
import { SqliteTraceSink } from '../../integrations/sqlite/sqlite-trace-sink.ts';
import { SqliteVoicemailStore } from '../../integrations/sqlite/voicemail-store.ts';
import { findExecution, loadExecution, type ExecutionDetail } from '../../integrations/sqlite/trace-queries.ts';
import { testRegistry } from './test-modules.ts';
import type { Outbox } from '../../engine/outbox.ts';

const made: string[] = [];
// A test file's folders go when its tests are done (vitest runs this hook of the file that
// imported this module), unless CALLFLOW_KEEP_TEST_FILES is set, to look at a failing test's
// databases and files.
afterAll(() => {
  if (process.env.CALLFLOW_KEEP_TEST_FILES) return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the OS temp dir, removed when this test process exits. */
export function tempDir(prefix = 'cf-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function writeJson(file: string, value: unknown): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

/** A small account: Alice (two devices), Bob (one), and the callflows given. */
export function account(callflows: unknown[], overrides: Record<string, unknown> = {}) {
  return {
    account: { id: 'acc-1', name: 'Test', realm: 'test.local', timezone: 'UTC' },
    users: [
      { id: 'alice', first_name: 'Alice', email: 'alice@test.local' },
      { id: 'bob', first_name: 'Bob', email: 'bob@test.local' },
    ],
    devices: [
      { id: 'alice-desk', owner_id: 'alice', sip: { username: 'alice-desk' } },
      { id: 'alice-soft', owner_id: 'alice', sip: { username: 'alice-soft' } },
      { id: 'bob-desk', owner_id: 'bob', sip: { username: 'bob-desk' } },
    ],
    callflows,
    ...overrides,
  };
}

export const callflow = (id: string, flow: unknown, numbers: string[] = [id], patterns: string[] = []) => ({
  id,
  name: id,
  numbers,
  patterns,
  flow,
});

export interface SimResult {
  summary: ExecutionSummary;
  detail: ExecutionDetail;
  db: Db;
  dir: string;
}

/**
 * Writes the account and scenario as real files, runs the scenario on the simulator and reads
 * back what the SQLite step log holds.
 */
export async function simulate(opts: {
  account: unknown;
  scenario: Record<string, unknown>;
  registry?: ModuleRegistry;
  dir?: string;
  dbFile?: string;
  wallClock?: { now(): number };
  /** Builds the outbox on the step-log database (notifications go through it). */
  outbox?: (db: Db) => Outbox;
}): Promise<SimResult> {
  const dir = opts.dir ?? tempDir();
  writeJson(join(dir, 'account.json'), opts.account);
  const scenarioFile = writeJson(join(dir, 'scenario.json'), { name: 'test', account: 'account.json', ...opts.scenario });
  const registry = opts.registry ?? testRegistry();
  const loaded = loadScenario(scenarioFile, { registry, validator: new SchemaValidator() });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const db = openDatabase(opts.dbFile ?? join(dir, 'trace.db'));
  const sink = new SqliteTraceSink(db);
  const outbox = opts.outbox?.(db);
  const summary = await runScenario(loaded.value, {
    registry,
    sink,
    recordingDir: join(dir, 'recordings'),
    voicemail: new SqliteVoicemailStore(db, join(dir, 'voicemail')),
    ...(outbox ? { outbox } : {}),
    wallClock: opts.wallClock ?? new FixedClock(1_700_000_000_000),
    executionIds: new SeededIds(loaded.value.scenario.seed + 1_000_000),
  });
  const found = findExecution(db, summary.id);
  if (!found.ok) throw new Error(found.problem);
  return { summary, detail: loadExecution(db, found.execution), db, dir };
}

/** The steps as [module, outcome, child key taken] triples: the path the call took. */
export const path = (r: SimResult): [string, string, string | null][] =>
  r.detail.steps.map((s) => [s.module as string, s.outcome as string, s.child_key as string | null]);

export const commands = (r: SimResult): string[] => r.detail.commands.map((c) => c.app as string);
