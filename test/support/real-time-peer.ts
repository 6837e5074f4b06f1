import type { VirtualClock } from '../../engine/virtual-clock.ts';

/**
 * Plays a virtual clock at wall-clock speed: for an ESL peer facing a process that runs on real
 * time (`callflow serve`), so the scenario's seconds are real seconds. Returns a stop function.
 */
export function runInRealTime(clock: VirtualClock, tickMs = 2): () => void {
  const virtualStart = clock.now();
  const realStart = Date.now();
  const timer = setInterval(() => {
    const target = virtualStart + (Date.now() - realStart);
    for (let due = clock.nextDueAt(); due !== undefined && due <= target; due = clock.nextDueAt()) clock.advance();
  }, tickMs);
  return () => clearInterval(timer);
}
