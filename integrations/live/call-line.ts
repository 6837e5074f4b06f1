import type { ExecutionSummary } from '../../engine/execution.ts';
import { printable } from '../../engine/text.ts';

/** The one line `callflow serve` logs when a live call's execution ends. */
export function callLine(call: { channelUuid: string; callerNumber: string; destination: string }, s: ExecutionSummary): string {
  return [
    `call ${call.channelUuid}`,
    `${printable(call.callerNumber)} → ${printable(call.destination)}`,
    `${s.status}/${s.endReason}`,
    s.hangupCause ? `${s.hangupCause}${s.hangupBy ? ` by ${s.hangupBy}` : ''}` : 'no hangup seen',
    s.durationMs === null ? '' : `${(s.durationMs / 1000).toFixed(1)} s`,
    `${s.steps} step(s)`,
    `execution ${s.id}`,
    s.error ? `error: ${printable(s.error)}` : '',
  ]
    .filter((x) => x.length > 0)
    .join('  ');
}
