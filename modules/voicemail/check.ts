import type { CallControl } from '../../engine/call/call-control.ts';
import { ChannelGoneError } from '../../engine/errors.ts';
import { next, type Next } from '../../engine/executor/next.ts';
import type { VoicemailFolder, VoicemailMessage } from '../../engine/voicemail.ts';
import { boxById, boxByNumber, boxesOwnedBy, callerOwns, interdigitMs } from './boxes.ts';
import { noteMwi } from './new-message.ts';
import { menuDigits, menuKey } from './prompts.ts';
import type { VoicemailData, Vmbox } from './schema.ts';
import { ALL_DTMF, KEYS, PROMPT, VOICEMAIL_DEFAULTS, say } from './settings.ts';

/** The box to check before asking: data id, capture group, caller id match, the caller's only box. */
function knownBox(data: VoicemailData, call: CallControl): Vmbox | undefined {
  if (data.id) return boxById(call, data.id);
  if (call.info.captureGroup) return boxByNumber(call, call.info.captureGroup);
  if (data.callerid_match_login) {
    const b = boxByNumber(call, call.info.callerNumber);
    if (b) return b;
  }
  if (data.single_mailbox_login && call.info.ownerId) {
    const own = boxesOwnedBy(call, call.info.ownerId);
    if (own.length === 1) return own[0];
  }
  return undefined;
}

/**
 * Login: the box (asked for when not known), then the PIN unless the owner calls with
 * require_pin off. Every failure counts against max_login_attempts. Undefined: no access.
 */
async function login(data: VoicemailData, call: CallControl, known: Vmbox | undefined): Promise<Vmbox | undefined> {
  for (let attempt = 1; attempt <= VOICEMAIL_DEFAULTS.maxLoginAttempts; attempt++) {
    let box = known;
    if (!box) {
      const number = await menuDigits(call, [PROMPT.enterId], VOICEMAIL_DEFAULTS.maxBoxNumberLength, interdigitMs(data, undefined));
      box = boxByNumber(call, number);
      if (!box) {
        call.note(`login attempt ${attempt}: no box ${number === '' ? '(nothing entered)' : number}`);
        await call.playback(PROMPT.failAuth);
        continue;
      }
    }
    const isOwner = callerOwns(call, box);
    if (isOwner && !box.require_pin) {
      call.note(`box ${box.mailbox}: the owner, no PIN required`);
      return box;
    }
    if (!box.pin) {
      call.note(`box ${box.mailbox} has no PIN: no access`);
      await call.playback(PROMPT.noAccess);
      return undefined;
    }
    call.maskDigits(true);
    let pin: string;
    try {
      pin = await menuDigits(call, [PROMPT.enterPass], VOICEMAIL_DEFAULTS.maxPinLength, interdigitMs(data, box));
    } finally {
      call.maskDigits(false);
    }
    if (pin === box.pin) {
      call.note(`box ${box.mailbox}: PIN accepted`);
      return box;
    }
    // Neither the digits nor (masked above) the key presses are logged: a PIN attempt is a secret too.
    call.note(`login attempt ${attempt}: wrong PIN for box ${box.mailbox}`);
    await call.playback(PROMPT.failAuth);
  }
  call.note(`${VOICEMAIL_DEFAULTS.maxLoginAttempts} failed login attempts`);
  await call.playback(PROMPT.abort);
  return undefined;
}

/** Plays one folder's messages; each can be replayed, kept (moved to saved) or deleted. */
async function listen(call: CallControl, box: Vmbox, folder: VoicemailFolder): Promise<void> {
  const store = call.voicemail!;
  const messages = store.list(call.account.id, box.id, folder);
  for (const [i, m] of messages.entries()) {
    await call.playback(PROMPT.messageNumber);
    await call.say(String(i + 1));
    await messageMenu(call, m, folder);
  }
  await call.playback(PROMPT.noMoreMessages);
}

async function messageMenu(call: CallControl, m: VoicemailMessage, folder: VoicemailFolder): Promise<void> {
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
        if (folder !== 'saved') store.moveTo(m.id, 'saved');
        call.note(`message ${m.id} kept (saved folder)`);
        await call.playback(PROMPT.saved);
        return;
      case KEYS.delete:
        store.moveTo(m.id, 'deleted');
        call.note(`message ${m.id} deleted`);
        await call.playback(PROMPT.deleted);
        return;
      case KEYS.next:
        call.note(`message ${m.id} skipped (left in ${folder})`);
        return;
      default:
        if (call.gone) return;
        tries++;
    }
  }
  call.note(`message ${m.id}: no choice, left in ${folder}`);
}

/**
 * KAZOO's check_mailbox: find the box, log in, then the main menu (1 new messages, 2 saved,
 * 5 settings, # goodbye; four idle rounds end it). The settings menu is not built here: key 5
 * says so and returns to the menu.
 */
export async function check(data: VoicemailData, call: CallControl, known?: Vmbox): Promise<Next> {
  let box: Vmbox | undefined;
  try {
    await call.answer();
    call.flushDigits();
    box = await login(data, call, known ?? knownBox(data, call));
    if (!box) return next.continue('_', 'no access to a box');
    if (!call.voicemail) {
      call.note('no voicemail store is configured: no messages to play');
      return next.continue('_', 'no voicemail store');
    }
    for (let idle = 0; idle < VOICEMAIL_DEFAULTS.menuTries; ) {
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
    await call.playback(PROMPT.goodbye);
    noteMwi(call, box);
    return next.continue('_', `done checking box ${box.mailbox}`);
  } catch (err) {
    if (!(err instanceof ChannelGoneError)) throw err;
    if (box) noteMwi(call, box);
    return next.continue('_', 'caller hung up while checking voicemail');
  }
}
