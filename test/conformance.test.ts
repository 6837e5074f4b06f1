import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SchemaValidator } from '../engine/documents/validator.ts';
import type { ExecutionSummary } from '../engine/execution.ts';
import { FixedClock, SeededIds } from '../engine/providers.ts';
import { createRegistry } from '../modules/index.ts';
import { loadScenario, type LoadedScenario } from '../integrations/simulator/load-scenario.ts';
import { runScenario, type SimulationDeps } from '../integrations/simulator/run-scenario.ts';
import { openDatabase, type Db } from '../integrations/sqlite/open-database.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { SqliteVoicemailStore } from '../integrations/sqlite/voicemail-store.ts';
import { runScenarioOverEsl } from './support/esl-harness.ts';
import { tempDir } from './support/sim.ts';

/**
 * The same scenario, run on the simulator directly and through the FreeSWITCH driver to the
 * ESL peer (which plays the same simulator behind a FreeSWITCH-faithful wire), must write the
 * same step log: steps, commands with their args, acks and responses, event names and times,
 * effects and the execution row. Only ids (uuids, execution ids), the run's own folder,
 * wall-clock columns, the `source` column and the events' headers (FreeSWITCH sends many more
 * than the simulator) may differ. Every scenario file found runs both ways, so a new one is
 * covered without touching this file.
 */

const roots = ['callflows', join('test', 'scenarios')].map((r) => join(process.cwd(), r)).filter((r) => existsSync(r));
const scenarioFiles = roots
  .flatMap((root) => readdirSync(root, { recursive: true, encoding: 'utf8' }).map((f) => join(root, f)))
  .filter((f) => f.endsWith('.json') && /(^|[\\/])scenarios[\\/]/.test(relative(process.cwd(), f)))
  .sort();

type Runner = (loaded: LoadedScenario, deps: SimulationDeps) => Promise<ExecutionSummary>;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}/g;

/** The step log of one run, as rows with the parts allowed to differ taken out. */
function comparable(db: Db, dir: string): Record<string, Record<string, unknown>[]> {
  const read = (table: string, order: string, drop: string[]): Record<string, unknown>[] =>
    (db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all() as Record<string, unknown>[]).map((r) => {
      for (const k of ['execution_seq', ...drop]) delete r[k];
      return r;
    });
  const tables = {
    executions: read('executions', 'seq', ['seq', 'id', 'source', 'wall_started_at', 'wall_ended_at']),
    steps: read('steps', 'execution_seq, seq', []),
    channel_events: read('channel_events', 'execution_seq, ord', ['headers']),
    commands: read('commands', 'execution_seq, ord', []),
    effects: read('effects', 'execution_seq, ord', []),
  };
  // Ids are numbered by first appearance, so the same id in the same places compares equal.
  const seen = new Map<string, string>();
  const text = JSON.stringify(tables)
    .split(dir)
    .join('<run-dir>')
    .replace(UUID, (id) => {
      if (!seen.has(id)) seen.set(id, `<id-${seen.size + 1}>`);
      return seen.get(id)!;
    });
  return JSON.parse(text) as Record<string, Record<string, unknown>[]>;
}

async function runOnce(file: string, runner: Runner) {
  const registry = createRegistry();
  const loaded = loadScenario(file, { registry, validator: new SchemaValidator() });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const dir = tempDir('cf-conformance-');
  const db = openDatabase(join(dir, 'trace.db'));
  const wallClock = new FixedClock(1_700_000_000_000);
  const summary = await runner(loaded.value, {
    registry,
    sink: new SqliteTraceSink(db),
    wallClock,
    executionIds: new SeededIds(loaded.value.scenario.seed + 1_000_000),
    recordingDir: join(dir, 'recordings'),
    outbox: new OutboxStore(db, wallClock),
    voicemail: new SqliteVoicemailStore(db, join(dir, 'voicemail'), wallClock),
  });
  return { summary, rows: comparable(db, dir) };
}

describe('conformance: the simulator and the FreeSWITCH driver write the same step log', () => {
  it('finds the scenario files', () => {
    expect(scenarioFiles.length).toBeGreaterThanOrEqual(3);
  });

  for (const file of scenarioFiles) {
    it(relative(process.cwd(), file), async () => {
      const direct = await runOnce(file, runScenario);
      const overEsl = await runOnce(file, runScenarioOverEsl);
      expect(direct.rows.steps!.length).toBeGreaterThan(0);
      expect(direct.rows.channel_events!.length).toBeGreaterThan(0);
      expect(overEsl.summary.endReason).toBe(direct.summary.endReason);
      expect(overEsl.rows).toEqual(direct.rows);
    });
  }
});

describe('what FreeSWITCH repeats is not a leak', () => {
  // FreeSWITCH leaves the PIN prompt's terminator (the PIN's first key) on the channel until the
  // next prompt starts, so the next events repeat it: the step log must not.
  it('the PIN\'s first key appears nowhere in the step log, on either switch', async () => {
    const file = join(process.cwd(), 'callflows/example/scenarios/stranger-checks-voicemail.json');
    for (const runner of [runScenario, runScenarioOverEsl]) {
      const registry = createRegistry();
      const loaded = loadScenario(file, { registry, validator: new SchemaValidator() });
      if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
      const dir = tempDir('cf-pin-');
      const db = openDatabase(join(dir, 'trace.db'));
      await runner(loaded.value, { registry, sink: new SqliteTraceSink(db), recordingDir: join(dir, 'recordings'), voicemail: new SqliteVoicemailStore(db, join(dir, 'voicemail')) });
      const events = db.prepare('SELECT name, headers FROM channel_events ORDER BY execution_seq, ord').all() as { name: string; headers: string }[];
      const terminators = events.flatMap((e) => {
        const t = (JSON.parse(e.headers) as Record<string, string>)['variable_playback_terminator_used'];
        return t === undefined ? [] : [`${e.name} ${t}`];
      });
      // The box number's first key and the PIN's (both in the login, masked), the main menu's #.
      expect(terminators, runner.name).toEqual(['CHANNEL_EXECUTE_COMPLETE masked', 'CHANNEL_EXECUTE_COMPLETE masked', 'CHANNEL_EXECUTE_COMPLETE #']);
      const digits = events.filter((e) => e.name === 'DTMF').map((e) => (JSON.parse(e.headers) as Record<string, string>)['DTMF-Digit']);
      expect(digits, runner.name).toEqual([...Array(10).fill('masked'), '#']);
    }
  });
});

