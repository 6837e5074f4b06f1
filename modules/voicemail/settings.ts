/** KAZOO's system_config.callflow voicemail.* defaults, and the account's default key map (keys.voicemail). */
export const VOICEMAIL_DEFAULTS = {
  maxMessageCount: 100,
  /** Recordings shorter than this are not messages (kvm_message:new). */
  minMessageMs: 500,
  maxMessageLengthS: 500,
  interdigitMs: 2000,
  maxLoginAttempts: 3,
  maxPinLength: 6,
  maxBoxNumberLength: 15,
  /** b_play_and_collect_digits' wait for the first digit. */
  collectTimeoutMs: 5000,
  /** The review menu and the main menu give up after this many empty or wrong tries. */
  menuTries: 4,
} as const;

export const KEYS = {
  operator: '0',
  login: '*',
  // review menu after recording
  save: '1',
  listen: '2',
  rerecord: '3',
  // main menu
  hearNew: '1',
  hearSaved: '2',
  configure: '5',
  exit: '#',
  // message menu (KAZOO's post-playback keys)
  keep: '1',
  replay: '2',
  next: '6',
  delete: '7',
  returnMain: '0',
} as const;

export const ALL_DTMF = '0123456789*#';

/** FreeSWITCH's beep as KAZOO plays it: 440 Hz, 500 ms on, 100 ms off. */
export const BEEP = 'tone_stream://%(500,100,440)';

/** Prompt names; the switch maps them to sound files (the simulator plays them by name). */
export const PROMPT = {
  notAvailableNoVoicemail: 'vm-not_available_no_voicemail',
  mailboxFull: 'vm-mailbox_full',
  greetingIntro: 'vm-greeting_intro',
  personNotAvailable: 'vm-person_not_available',
  person: 'vm-person',
  notAvailable: 'vm-not_available',
  recordMessage: 'vm-record_message',
  reviewRecording: 'vm-review_recording',
  saved: 'vm-saved',
  thankYou: 'vm-thank_you',
  enterId: 'vm-enter_id',
  enterPass: 'vm-enter_pass',
  failAuth: 'vm-fail_auth',
  abort: 'vm-abort',
  noAccess: 'vm-no_access',
  youHave: 'vm-you_have',
  newMessages: 'vm-new_messages',
  savedMessages: 'vm-saved_messages',
  mainMenu: 'vm-main_menu',
  messageNumber: 'vm-message_number',
  messageMenu: 'vm-message_menu',
  deleted: 'vm-deleted',
  noMoreMessages: 'vm-no_more_messages',
  invalidEntry: 'menu-invalid_entry',
  notConfigurable: 'vm-not_configurable',
  goodbye: 'vm-goodbye',
} as const;

/** A prompt file, or text the switch says (KAZOO's audio_macro `{say, Text}`: name_spelled, one application). */
export type Prompt = string | { readonly say: string };

/** A box number or a count, said digit by digit. */
export const say = (text: string): Prompt => ({ say: text });
