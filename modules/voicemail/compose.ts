import type { CallControl, RecordResult } from '../../engine/call/call-control.ts';
import { ChannelGoneError } from '../../engine/errors.ts';
import { next, type FlowRef, type Next } from '../../engine/executor/next.ts';
import type { TemplateRenderer } from '../notification/renderer.ts';
import { callerOwns, maxMessages, maxMessageSeconds, nodeBox, operatorFlow } from './boxes.ts';
import { greetingPrompts, instructionPrompts } from './greeting.ts';
import { leaveMessage } from './new-message.ts';
import { menuKey, playInterruptible } from './prompts.ts';
import type { VoicemailData, Vmbox } from './schema.ts';
import { ALL_DTMF, BEEP, KEYS, PROMPT, VOICEMAIL_DEFAULTS, type Prompt } from './settings.ts';

/** Compose hands over to check (the owner calling their own box, or `*` during the greeting). */
export interface ToCheck {
  readonly kind: 'to_check';
  readonly box: Vmbox;
  readonly why: string;
}

/**
 * KAZOO's compose_voicemail: answer, greet, beep, record, review; the message is kept when the
 * caller saves it or hangs up. Ends with continue("_"), a branch to the operator, or check mode.
 */
export async function compose(data: VoicemailData, call: CallControl, renderer: TemplateRenderer): Promise<Next | ToCheck> {
  await call.answer();
  const box = nodeBox(data, call);
  if (!box) {
    await call.playback(PROMPT.notAvailableNoVoicemail);
    return next.continue('_', 'no voicemail box for this call');
  }
  const isOwner = callerOwns(call, box);
  // KAZOO's default: only a call that comes straight from the owner's device (no module before, or `device`).
  const checkIfOwner = box.check_if_owner ?? (call.lastModule === undefined || call.lastModule === 'device');
  if (isOwner && (checkIfOwner || box.announcement_only)) return { kind: 'to_check', box, why: 'the owner called their own box' };

  call.flushDigits();
  if (box.announcement_only) {
    const key = await keyDuring(call, greetingPrompts(box));
    if (key === KEYS.login) return { kind: 'to_check', box, why: 'caller pressed * during the announcement' };
    return next.continue('_', 'announcement-only box: greeting played, no message taken');
  }

  const count = call.voicemail?.count(call.account.id, box.id) ?? { new: 0, saved: 0 };
  const max = maxMessages(box);
  if (max > 0 && count.new + count.saved >= max) {
    call.note(`voicemail_full published: box ${box.mailbox} holds ${count.new + count.saved} of ${max} messages`);
    const key = await keyDuring(call, [...greetingPrompts(box), PROMPT.mailboxFull]);
    if (key === KEYS.login) return { kind: 'to_check', box, why: 'caller pressed * at the full box' };
    return next.continue('_', 'box full: nothing recorded');
  }

  const pressed = await playInterruptible(call, [...greetingPrompts(box), ...instructionPrompts(box)]);
  if (pressed) {
    const key = await call.collectDigits({ maxDigits: 1, timeoutMs: 0, interdigitMs: 0 });
    if (key === KEYS.login) return { kind: 'to_check', box, why: 'caller pressed * during the greeting' };
    if (key === KEYS.operator) {
      const op = operatorFlow(call, box);
      if (op) return next.branch(op, 'caller pressed 0 during the greeting: operator');
      call.note('caller pressed 0 but there is no operator callflow: recording');
    } else {
      call.note(`caller pressed ${key} during the greeting: recording at once`);
    }
  }
  return recordAndReview(data, call, box, renderer);
}

/**
 * KAZOO's wait_for_application_or_dtmf after the greeting of an announcement-only or full box:
 * the key pressed while the prompts play ('' when none was). Once they end, the node is done at
 * once: no collect after them.
 */
async function keyDuring(call: CallControl, prompts: readonly Prompt[]): Promise<string> {
  if (!(await playInterruptible(call, prompts))) return '';
  return call.collectDigits({ maxDigits: 1, timeoutMs: 0, interdigitMs: 0 });
}

/** The caller's choice after recording; choosing the operator carries the callflow to branch to. */
type Review = 'save' | 'rerecord' | { readonly operator: FlowRef };

async function recordAndReview(data: VoicemailData, call: CallControl, box: Vmbox, renderer: TemplateRenderer): Promise<Next> {
  const limit = maxMessageSeconds(data, box);
  let pending: RecordResult | undefined;
  /** Set once the message is dealt with: a hangup during the goodbye prompts changes nothing. */
  let result: Next | undefined;
  const keep = (why: string): Next => {
    const rec = pending!;
    pending = undefined;
    const outcome = leaveMessage(call, box, rec, renderer);
    result = next.continue('_', `${why}: ${outcome === 'stored' ? 'message kept' : outcome === 'discarded' ? 'too short, discarded' : 'message lost'}`);
    return result;
  };
  try {
    for (;;) {
      await call.playback(BEEP);
      pending = await call.record({ limitSeconds: limit, terminators: ALL_DTMF, extension: box.media_extension });
      // Hanging up is how most callers leave a message: no review, it is kept.
      if (call.gone) return keep('caller hung up after recording');
      call.flushDigits(); // the key that ended the recording is not a menu choice
      const choice = await review(call, pending, box);
      if (call.gone) return keep('caller hung up during the review');
      if (choice === 'rerecord') {
        call.voicemail?.discardRecording(pending.path);
        pending = undefined;
        call.note('caller chose to record again');
        continue;
      }
      if (typeof choice === 'object') {
        keep('caller pressed 0 after recording');
        await call.playback(PROMPT.saved);
        return next.branch(choice.operator, 'message saved, then to the operator');
      }
      const result = keep('caller saved the message');
      await call.playback(PROMPT.saved);
      await call.playback(PROMPT.thankYou);
      return result;
    }
  } catch (err) {
    if (!(err instanceof ChannelGoneError)) throw err;
    // Gone during the review or the goodbye prompts: a recording not yet kept is saved (KAZOO's hangup = save).
    return result ?? (pending ? keep('caller hung up during the review') : next.continue('_', 'caller hung up'));
  }
}

/**
 * The review menu: 1 save, 2 listen, 3 record again, 0 operator (a wrong key when there is no
 * operator callflow, as KAZOO's get_operator_callflow error is); four empty or wrong tries save.
 */
async function review(call: CallControl, rec: RecordResult, box: Vmbox): Promise<Review> {
  for (let tries = 0; tries < VOICEMAIL_DEFAULTS.menuTries; ) {
    const key = await menuKey(call, [PROMPT.reviewRecording]);
    if (key === KEYS.save) return 'save';
    if (key === KEYS.rerecord) return 'rerecord';
    // Looked up only when pressed: most messages never ask for the operator.
    const operator = key === KEYS.operator ? operatorFlow(call, box) : undefined;
    if (operator) return { operator };
    if (key === KEYS.listen) {
      await call.playback(rec.path, { terminators: ALL_DTMF });
      call.flushDigits();
      continue;
    }
    if (call.gone) return 'save'; // KAZOO: a hangup in the review menu saves
    tries++;
  }
  call.note(`no choice after ${VOICEMAIL_DEFAULTS.menuTries} tries: saving`);
  return 'save';
}
