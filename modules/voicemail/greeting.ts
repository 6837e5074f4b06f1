import type { Vmbox } from './schema.ts';
import { PROMPT, say, type Prompt } from './settings.ts';

/**
 * KAZOO's greeting selection (cf_voicemail play_greeting), first match wins: none when
 * skip_greeting; the temporary greeting; "person not available" when the box asks for it and
 * has no greeting; "the person at <box number> is not available"; the box's own greeting.
 * Then the optional intro goes first and the instructions last.
 */
export function greetingPrompts(box: Vmbox): Prompt[] {
  let greeting: Prompt[];
  if (box.skip_greeting) greeting = [];
  else if (box.media.temporary_unavailable) greeting = [box.media.temporary_unavailable];
  else if (box.use_person_not_available && !box.media.unavailable) greeting = [PROMPT.personNotAvailable];
  else if (!box.media.unavailable) greeting = [PROMPT.person, say(box.mailbox), PROMPT.notAvailable];
  else greeting = [box.media.unavailable];
  return [...(box.play_greeting_intro ? [PROMPT.greetingIntro] : []), ...greeting];
}

export const instructionPrompts = (box: Vmbox): Prompt[] => (box.skip_instructions ? [] : [PROMPT.recordMessage]);
