import type { BridgeEndpoint } from './switch.ts';

/** FreeSWITCH's call_timeout when a bridge gives none (KAZOO's `timeout` 0). */
const SWITCH_DEFAULT_TIMEOUT_S = 60;

/** How long the switch lets a bridge ring as a whole (ms): its timeout, or the switch's default. */
export const bridgeTimeoutMs = (timeoutSeconds: number): number =>
  (timeoutSeconds > 0 ? timeoutSeconds : SWITCH_DEFAULT_TIMEOUT_S) * 1000;

/** How long one leg may ring once it has started (ms): its Endpoint-Timeout, else the bridge's. */
export const legTimeoutMs = (e: BridgeEndpoint, bridgeMs: number): number =>
  e.timeoutSeconds > 0 ? e.timeoutSeconds * 1000 : bridgeMs;

/**
 * The longest the switch can ring a bridge nobody answers before it gives up on its own (ms from
 * the bridge's start). Simultaneous legs ring together, each from its delay and none past the
 * bridge's timeout; single legs ring one after another, each from its delay. The engine must not
 * give up on a bridge sooner: the switch would still be ringing while the callflow moved on.
 */
export function longestRingMs(endpoints: readonly BridgeEndpoint[], strategy: 'simultaneous' | 'single', timeoutSeconds: number): number {
  const bridgeMs = bridgeTimeoutMs(timeoutSeconds);
  let longest = 0;
  for (const e of endpoints) {
    const leg = e.delaySeconds * 1000 + legTimeoutMs(e, bridgeMs);
    longest = strategy === 'single' ? longest + leg : Math.max(longest, Math.min(bridgeMs, leg));
  }
  return longest;
}
