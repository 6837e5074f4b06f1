import { executeCall, type EngineDeps, type ExecutionSummary, type Logger } from '../../engine/execution.ts';
import type { ModuleRegistry } from '../../engine/module.ts';
import { SeededIds, TimeOrderedIds, type IdProvider } from '../../engine/providers.ts';
import type { TraceSink } from '../../engine/trace/rows.ts';
import type { Outbox } from '../../engine/outbox.ts';
import type { VoicemailStore } from '../../engine/voicemail.ts';
import { VirtualClock } from '../../engine/virtual-clock.ts';
import type { LoadedScenario } from './load-scenario.ts';
import { SimulatedSwitch } from './simulated-switch.ts';

export interface SimulationDeps {
  readonly registry: ModuleRegistry;
  readonly sink: TraceSink;
  readonly wallClock?: { now(): number };
  /** Execution ids (time-ordered, never repeating, unless a test pins them); everything else is seeded by the scenario. */
  readonly executionIds?: IdProvider;
  readonly logger?: Logger;
  readonly recordingDir?: string;
  readonly outbox?: Outbox;
  readonly voicemail?: VoicemailStore;
}

/** One sequence for the whole process, so execution ids keep their order across concurrent runs. */
const defaultExecutionIds = new TimeOrderedIds();

/** The engine's dependencies for a scenario run on `clock` and `ids` (any switch). */
export function engineDepsFor(deps: SimulationDeps, clock: VirtualClock, ids: IdProvider, source: string): EngineDeps {
  return {
    registry: deps.registry,
    clock,
    wallClock: deps.wallClock ?? Date,
    ids,
    executionIds: deps.executionIds ?? defaultExecutionIds,
    sink: deps.sink,
    source,
    recordingDir: deps.recordingDir ?? 'recordings',
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.outbox ? { outbox: deps.outbox } : {}),
    ...(deps.voicemail ? { voicemail: deps.voicemail } : {}),
  };
}

/** Lets every promise chain the last event started run to its end before time moves on. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs one scenario on virtual time: the clock jumps from one due event to the next, so an
 * hour-long call costs only the events in it. The same scenario always gives the same step log.
 */
export async function runScenario(loaded: LoadedScenario, deps: SimulationDeps): Promise<ExecutionSummary> {
  const sc = loaded.scenario;
  const clock = new VirtualClock(Date.parse(sc.start_time));
  const ids = new SeededIds(sc.seed);
  const sw = new SimulatedSwitch(clock, ids, sc);
  const channelUuid = sw.originate();
  return onVirtualTime(clock, () =>
    executeCall(engineDepsFor(deps, clock, ids, 'simulation'), {
      sw,
      channelUuid,
      account: loaded.account.view,
      router: loaded.account.router,
      callerNumber: sc.call.from,
      callerName: sc.call.caller_id_name ?? sc.call.from,
      calleeNumber: sc.call.to ?? '',
      ...(sc.call.device ? { deviceId: sc.call.device } : {}),
      ...(loaded.callflow ? { callflow: loaded.callflow } : {}),
      scenario: sc.name,
    }),
  );
}

/**
 * Runs `work` to its end on `clock`: whenever everything started so far has settled, the clock
 * jumps to its next due timer. Any switch driven by the clock runs this way (tests wrap the
 * simulated one).
 */
export async function onVirtualTime<T>(clock: VirtualClock, work: () => Promise<T>): Promise<T> {
  let finished = false;
  const running = work().finally(() => {
    finished = true;
  });
  while (!finished) {
    await settle();
    if (finished) break;
    // Nothing due on the virtual clock: the engine is waiting on real I/O (a post-hangup send).
    if (!clock.advance()) await Promise.race([running, clock.timerScheduled()]);
  }
  clock.clear();
  return running;
}
