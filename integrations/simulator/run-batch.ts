import type { ExecutionSummary } from '../../engine/execution.ts';
import type { DocumentError } from '../../engine/errors.ts';
import type { LoadContext, DocumentWarning } from '../../engine/documents/load.ts';
import { loadScenario, type AccountCache, type LoadedScenario } from './load-scenario.ts';
import { runScenario, type SimulationDeps } from './run-scenario.ts';

export type BatchItem =
  | { readonly file: string; readonly ok: true; readonly summary: ExecutionSummary; readonly warnings: readonly DocumentWarning[] }
  | { readonly file: string; readonly ok: false; readonly errors: readonly DocumentError[]; readonly warnings: readonly DocumentWarning[] };

/**
 * Runs many scenarios, `concurrency` at a time (each on its own virtual clock, so they cannot
 * disturb one another). A scenario that fails to load is reported and the batch goes on.
 * Results are handed over as they finish and never kept, so memory does not grow with the batch.
 * Once `stopped()` says so, no further scenario starts; the ones running finish.
 */
export async function runBatch(
  files: readonly string[],
  ctx: LoadContext,
  deps: SimulationDeps,
  opts: { concurrency: number; onResult: (item: BatchItem) => void; stopped?: () => boolean },
): Promise<void> {
  const cache: AccountCache = new Map();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length && !opts.stopped?.()) {
      const file = files[next++]!;
      const loaded = loadScenario(file, ctx, cache);
      if (!loaded.ok) {
        opts.onResult({ file, ok: false, errors: loaded.errors, warnings: loaded.warnings });
        continue;
      }
      opts.onResult({ file, ok: true, summary: await runScenario(loaded.value, deps), warnings: loaded.warnings });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, files.length)) }, worker));
}

/** The same scenario many times with seeds seed, seed+1, ...: what the benchmark runs. */
export async function runRepeated(
  loaded: LoadedScenario,
  count: number,
  deps: SimulationDeps,
  opts: { concurrency: number; onResult?: (summary: ExecutionSummary) => void },
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const scenario = { ...loaded.scenario, seed: loaded.scenario.seed + i };
      const summary = await runScenario({ ...loaded, scenario }, deps);
      opts.onResult?.(summary);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, count)) }, worker));
}
