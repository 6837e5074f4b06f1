import { SAFE_EMAIL_SCHEMA } from '../notification/addresses.ts';

/**
 * KAZOO's callflows.voicemail.json and vmboxes.json, the parts this engine acts on.
 * `max_message_length` and `interdigit_timeout` have no schema default on purpose: KAZOO takes
 * the first value set across the callflow data, the box and the system (see limits.ts), and a
 * filled-in default would always win.
 */
export const voicemailSchema = {
  type: 'object',
  properties: {
    action: { enum: ['compose', 'check'], default: 'compose', description: 'leave a message, or listen to the box' },
    id: { type: 'string', minLength: 1, description: 'the voicemail box; missing: the capture group, else the caller\'s own box' },
    max_message_length: { type: 'integer', minimum: 1, description: 'seconds; wins over the box and the system default (500)' },
    interdigit_timeout: { type: 'integer', minimum: 1, description: 'ms between digits; the box\'s own value wins (default 2000)' },
    callerid_match_login: { type: 'boolean', default: false, description: 'check: the box whose number is the caller id' },
    single_mailbox_login: { type: 'boolean', default: false, description: "check: the caller's only box" },
    skip_module: { type: 'boolean' },
  },
} as const;

export interface VoicemailData {
  action: 'compose' | 'check';
  id?: string;
  max_message_length?: number;
  interdigit_timeout?: number;
  callerid_match_login: boolean;
  single_mailbox_login: boolean;
}

/** The rule the sender applies, so `validate` catches what sending would drop. */
const email = SAFE_EMAIL_SCHEMA;
/**
 * A greeting is played by the switch: a plain absolute path (no `..`, no dot files) and nothing
 * else. A URL would let a box document have FreeSWITCH fetch (http_cache://) or run
 * (shell_stream://) whatever it names.
 */
const greetingFile = {
  type: 'string',
  pattern: '^(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$',
  patternHint: 'an absolute path of plain names (/var/greetings/alice.wav)',
} as const;
const digits = (max: number) => ({ type: 'string', pattern: `^[0-9]{1,${max}}$`, patternHint: `1 to ${max} digits` }) as const;

/** One item of the account bundle's `vmboxes`. */
export const vmboxSchema = {
  type: 'object',
  required: ['id', 'mailbox'],
  properties: {
    id: { type: 'string', minLength: 1 },
    name: { type: 'string' },
    mailbox: { ...digits(15), description: 'the box number callers dial or enter' },
    owner_id: { type: 'string', minLength: 1 },
    pin: { ...digits(6), description: 'digits; a box without one cannot be checked by PIN' },
    require_pin: { type: 'boolean', default: false, description: 'the owner must enter the PIN too' },
    // No default: KAZOO computes it from the module that ran before (see modes.ts).
    check_if_owner: { type: 'boolean', description: 'the owner calling their own box goes to check' },
    is_setup: { type: 'boolean', default: false },
    skip_greeting: { type: 'boolean', default: false },
    skip_instructions: { type: 'boolean', default: false },
    play_greeting_intro: { type: 'boolean', default: false },
    use_person_not_available: { type: 'boolean', default: false },
    announcement_only: { type: 'boolean', default: false, description: 'play the greeting, take no message' },
    media: {
      type: 'object',
      default: {},
      properties: {
        unavailable: { ...greetingFile, description: 'greeting file: an absolute path on the switch' },
        temporary_unavailable: { ...greetingFile, description: 'greeting file that wins while set: an absolute path on the switch' },
      },
    },
    media_extension: { enum: ['wav', 'mp3'], default: 'wav', description: 'format the switch records in' },
    notify_email_addresses: { type: 'array', items: email, default: [] },
    delete_after_notify: { type: 'boolean', default: false },
    save_after_notify: { type: 'boolean', default: false },
    include_message_on_notify: { type: 'boolean', default: true },
    max_message_count: { type: 'integer', minimum: 0, description: '0: unlimited; default 100 (KAZOO system config)' },
    max_message_length: { type: 'integer', minimum: 1 },
    interdigit_timeout: { type: 'integer', minimum: 1 },
    operator_number: { type: 'string', minLength: 1, description: 'callflow number the 0 key branches to' },
    transcribe: { type: 'boolean' },
    timezone: { type: 'string' },
  },
} as const;

export interface Vmbox {
  id: string;
  name?: string;
  mailbox: string;
  owner_id?: string;
  pin?: string;
  require_pin: boolean;
  check_if_owner?: boolean;
  is_setup: boolean;
  skip_greeting: boolean;
  skip_instructions: boolean;
  play_greeting_intro: boolean;
  use_person_not_available: boolean;
  announcement_only: boolean;
  media: { unavailable?: string; temporary_unavailable?: string };
  media_extension: 'wav' | 'mp3';
  notify_email_addresses: string[];
  delete_after_notify: boolean;
  save_after_notify: boolean;
  include_message_on_notify: boolean;
  max_message_count?: number;
  max_message_length?: number;
  interdigit_timeout?: number;
  operator_number?: string;
}
