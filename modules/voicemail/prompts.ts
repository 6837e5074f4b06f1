import type { CallControl } from '../../engine/call/call-control.ts';
import { ALL_DTMF, VOICEMAIL_DEFAULTS, type Prompt } from './settings.ts';

/**
 * Plays prompts one after another; a key pressed during any of them stops the rest (it stays
 * queued for the next collect, as in KAZOO's play-and-collect). Returns whether one was pressed.
 */
export async function playInterruptible(call: CallControl, prompts: readonly Prompt[]): Promise<boolean> {
  for (const p of prompts) {
    const r = typeof p === 'string' ? await call.playback(p, { terminators: ALL_DTMF }) : await call.say(p.say, { terminators: ALL_DTMF });
    if (r.terminator) return true;
  }
  return false;
}

/** Plays the prompts, then reads one key (KAZOO's 5 s collect timeout); '' when none came. */
export async function menuKey(call: CallControl, files: readonly Prompt[], timeoutMs: number = VOICEMAIL_DEFAULTS.collectTimeoutMs): Promise<string> {
  await playInterruptible(call, files);
  return call.collectDigits({ maxDigits: 1, timeoutMs, interdigitMs: timeoutMs });
}

/** Plays the prompts, then reads up to `maxDigits` ended by '#' with the box's interdigit timeout. */
export async function menuDigits(call: CallControl, files: readonly Prompt[], maxDigits: number, interdigitMs: number): Promise<string> {
  await playInterruptible(call, files);
  return call.collectDigits({ maxDigits, timeoutMs: VOICEMAIL_DEFAULTS.collectTimeoutMs, interdigitMs, terminators: '#' });
}
