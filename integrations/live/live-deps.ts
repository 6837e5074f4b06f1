import type { EngineDeps } from '../../engine/execution.ts';
import { RandomIds, SystemClock, TimeOrderedIds } from '../../engine/providers.ts';

/** Live calls run on the real clock with random ids (execution ids in time order); the rest is the caller's. */
export function liveEngineDeps(parts: Omit<EngineDeps, 'clock' | 'wallClock' | 'ids' | 'executionIds' | 'source'>): EngineDeps {
  return {
    ...parts,
    clock: new SystemClock(),
    wallClock: Date,
    ids: new RandomIds(),
    executionIds: new TimeOrderedIds(),
    source: 'freeswitch',
  };
}
