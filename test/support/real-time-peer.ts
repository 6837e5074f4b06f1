import type { VirtualClock } from '../../engine/virtual-clock.ts';

/**
 * Plays a virtual clock at wall-clock speed: for an ESL peer facing a process that runs on real
 * time (`callflow serve`), so the scenario's seconds are real seconds. Returns a stop function.
 */
export function runInRealTime(clock: VirtualClock, tickMs = 2): () => void {
  const virtualStart = clock.now();
  const realStart = Date.now();
  // Time moves on even with nothing due, so a call that starts later is scheduled from "now".
  const timer = setInterval(() => clock.advanceTo(virtualStart + (Date.now() - realStart)), tickMs);
  return () => clearInterval(timer);
}
