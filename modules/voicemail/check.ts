import type { CallControl } from '../../engine/call/call-control.ts';
import { ChannelGoneError } from '../../engine/errors.ts';
import { next, type Next } from '../../engine/executor/next.ts';
import type { VoicemailFolder, VoicemailMessage } from '../../engine/voicemail.ts';
import { boxByNumber, callerOwns, interdigitMs, nodeBox } from './boxes.ts';
import { noteMwi } from './new-message.ts';
import { menuDigits, menuKey } from './prompts.ts';
import type { VoicemailData, Vmbox } from './schema.ts';
import { ALL_DTMF, KEYS, PROMPT, VOICEMAIL_DEFAULTS, say } from './settings.ts';

/**
 * Login: the box (asked for when not known), then the PIN unless the owner calls with
 * require_pin off. Every failure counts against max_login_attempts; a wrong PIN asks for the
 * PIN again, not the box. Undefined: no access; `box` is the box it was about, if any.
 */
async function login(data: VoicemailData, call: CallControl, known: Vmbox | undefined): Promise<{ access?: Vmbox; box?: Vmbox }> {
  // A PIN is a secret from the first key of the login to the last: a slow typist's keys arrive
  // after their collect ended, a fast one's with the box number. The step log gets key presses.
  call.maskDigits(true);
  try {
    return await loginAttempts(data, call, known);
  } finally {
    call.maskDigits(false);
  }
}

async function loginAttempts(data: VoicemailData, call: CallControl, known: Vmbox | undefined): Promise<{ access?: Vmbox; box?: Vmbox }> {
  let box = known;
  for (let attempt = 1; attempt <= VOICEMAIL_DEFAULTS.maxLoginAttempts; attempt++) {
    if (!box) {
      const number = await menuDigits(call, [PROMPT.enterId], VOICEMAIL_DEFAULTS.maxBoxNumberLength, interdigitMs(data, undefined));
      box = boxByNumber(call, number);
      if (!box) {
        // Never the digits: a box number typed run-on with the PIN carries the PIN.
        call.note(`login attempt ${attempt}: no box (${number === '' ? 'nothing' : number.length === 1 ? '1 digit' : `${number.length} digits`} entered)`);
        await call.playback(PROMPT.invalidEntry);
        continue;
      }
    }
    const isOwner = callerOwns(call, box);
    if (isOwner && !box.is_setup) noteSetupNotBuilt(call, box);
    if (isOwner && !box.require_pin) {
      call.note(`box ${box.mailbox}: the owner, no PIN required`);
      return { access: box, box };
    }
    if (!box.pin) {
      call.note(`box ${box.mailbox} has no PIN: no access`);
      await call.playback(PROMPT.noAccess);
      return { box };
    }
    const pin = await menuDigits(call, [PROMPT.enterPass], VOICEMAIL_DEFAULTS.maxPinLength, interdigitMs(data, box));
    if (pin === box.pin) {
      call.note(`box ${box.mailbox}: PIN accepted`);
      return { access: box, box };
    }
    // Neither the digits nor (masked) the key presses are logged: a PIN attempt is a secret too.
    call.note(`login attempt ${attempt}: wrong PIN for box ${box.mailbox}`);
    await call.playback(PROMPT.failAuth);
    // The rest of a PIN typed too slowly is not the start of the next attempt.
    call.flushDigits();
  }
  call.note(`${VOICEMAIL_DEFAULTS.maxLoginAttempts} failed login attempts`);
  await call.playback(PROMPT.abort);
  return box ? { box } : {};
}

/**
 * KAZOO (check_mailbox, main_menu) takes the owner of a box with is_setup false past the PIN,
 * even with require_pin, into the setup wizard (vm-setup_intro, a new PIN, the greeting), which
 * saves the PIN, the greeting and is_setup true in the box document. Account documents are
 * read-only here, so the wizard could not keep what it asks for (and would run on every call):
 * it is not built, and the step log says so. The check goes on as for a box that is set up.
 */
function noteSetupNotBuilt(call: CallControl, box: Vmbox): void {
  const here = box.require_pin
    ? `box ${box.mailbox}'s owner is asked for the PIN (require_pin); KAZOO would skip it and run the setup wizard (new PIN, greeting)`
    : `box ${box.mailbox}'s owner goes to the main menu; KAZOO would run the setup wizard (new PIN, greeting) first`;
  call.note(`first-time setup (is_setup false) is not built: ${here}`);
}

/**
 * Plays one folder's messages; each can be kept (moved to saved), replayed, skipped or deleted,
 * and 0 keeps it and goes back to the main menu.
 */
async function listen(call: CallControl, box: Vmbox, folder: VoicemailFolder): Promise<void> {
  const store = call.voicemail!;
  const messages = store.list(call.account.id, box.id, folder);
  for (const [i, m] of messages.entries()) {
    await call.playback(PROMPT.messageNumber);
    await call.say(String(i + 1));
    if ((await messageMenu(call, m, folder)) === 'main_menu') return;
  }
  await call.playback(PROMPT.noMoreMessages);
}

async function messageMenu(call: CallControl, m: VoicemailMessage, folder: VoicemailFolder): Promise<'next' | 'main_menu'> {
  const store = call.voicemail!;
  let play = true;
  for (let tries = 0; tries < VOICEMAIL_DEFAULTS.menuTries; ) {
    if (play) {
      await call.playback(m.mediaPath, { terminators: ALL_DTMF });
      play = false;
    }
    const key = await menuKey(call, [PROMPT.messageMenu]);
    switch (key) {
      case KEYS.replay:
        play = true;
        call.flushDigits();
        continue;
      case KEYS.keep:
      case KEYS.returnMain:
        if (folder !== 'saved') store.moveTo(m.id, 'saved');
        call.note(`message ${m.id} kept (saved folder)${key === KEYS.returnMain ? '; back to the main menu' : ''}`);
        await call.playback(PROMPT.saved);
        return key === KEYS.returnMain ? 'main_menu' : 'next';
      case KEYS.delete:
        store.moveTo(m.id, 'deleted');
        call.note(`message ${m.id} deleted`);
        await call.playback(PROMPT.deleted);
        return 'next';
      case KEYS.next:
        call.note(`message ${m.id} skipped (left in ${folder})`);
        return 'next';
      default:
        if (call.gone) return 'next';
        tries++;
    }
  }
  call.note(`message ${m.id}: no choice, left in ${folder}`);
  return 'next';
}

/**
 * KAZOO's check_mailbox: find the box, log in, then the main menu (1 new messages, 2 saved,
 * 5 settings, # exit; four idle rounds end it with vm-goodbye). The settings menu is not built
 * here: key 5 says so and returns to the menu.
 */
export async function check(data: VoicemailData, call: CallControl, known?: Vmbox): Promise<Next> {
  let box: Vmbox | undefined;
  try {
    await call.answer();
    call.flushDigits();
    const result = await login(data, call, known ?? nodeBox(data, call));
    box = result.box;
    if (!result.access) {
      // KAZOO sends the box's message-waiting update however the check ended.
      if (box) noteMwi(call, box);
      return next.continue('_', 'no access to a box');
    }
    box = result.access;
    if (!call.voicemail) {
      call.note('no voicemail store is configured: no messages to play');
      return next.continue('_', 'no voicemail store');
    }
    let idle = 0;
    while (idle < VOICEMAIL_DEFAULTS.menuTries) {
      const c = call.voicemail.count(call.account.id, box.id);
      const key = await menuKey(call, [
        PROMPT.youHave,
        say(String(c.new)),
        PROMPT.newMessages,
        say(String(c.saved)),
        PROMPT.savedMessages,
        PROMPT.mainMenu,
      ]);
      if (key === KEYS.hearNew || key === KEYS.hearSaved) {
        idle = 0;
        await listen(call, box, key === KEYS.hearNew ? 'new' : 'saved');
      } else if (key === KEYS.configure) {
        call.note('settings menu (5) is not built in this engine');
        await call.playback(PROMPT.notConfigurable);
      } else if (key === KEYS.exit) {
        break;
      } else {
        if (call.gone) break;
        idle++;
      }
    }
    // KAZOO's main_menu plays vm-goodbye only when the idle rounds run out (Loop > 4); # just leaves.
    if (idle >= VOICEMAIL_DEFAULTS.menuTries) await call.playback(PROMPT.goodbye);
    noteMwi(call, box);
    return next.continue('_', `done checking box ${box.mailbox}`);
  } catch (err) {
    if (!(err instanceof ChannelGoneError)) throw err;
    if (box) noteMwi(call, box);
    return next.continue('_', 'caller hung up while checking voicemail');
  }
}
