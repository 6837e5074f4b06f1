import type { EslEvent } from 'modesl/lib/esl/Parser.js';
import { safeDecode } from './framing-guard.ts';

/** One event as it came off the wire, headers decoded as its format requires. */
export interface WireEvent {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Flattens a modesl event into name → string. plain: modesl decoded the values already (with
 * the guard's safe decode). json: FreeSWITCH sends raw values, nothing to decode, and a value
 * that is not a string (only a broken peer sends one) is dropped rather than guessed at.
 * xml: modesl leaves FreeSWITCH's URL-encoding in place, so it is decoded here. A duplicate
 * header (Hangup-Cause twice in CHANNEL_HANGUP_COMPLETE) keeps its last value, as JSON does.
 * `keep`: take only these headers (it must hold Event-Name).
 */
export function wireEvent(event: EslEvent, contentType: string, keep?: ReadonlySet<string>): WireEvent | null {
  const decode = contentType === 'text/event-xml';
  const headers: Record<string, string> = {};
  for (const h of event.headers) {
    if (typeof h.name !== 'string' || (keep !== undefined && !keep.has(h.name))) continue;
    let value: unknown = h.value;
    if (typeof value === 'number') value = String(value);
    if (typeof value !== 'string') continue;
    headers[h.name] = decode ? safeDecode(value) : value;
  }
  const name = headers['Event-Name'];
  if (!name) return null;
  const body = typeof event.body === 'string' ? event.body : '';
  return { name, headers, body };
}
