/** The scenario file format (also the reference for the README's "Writing a scenario"). */
// A day at most: virtual time is cheap, but a recording is a real WAV file (a scripted 100,000 s
// of speech wrote 1.6 GB and took 6.5 GB of memory), and 1e308 s made an infinite duration.
const seconds = { type: 'number', minimum: 0, maximum: 86_400 } as const;

export const scenarioSchema = {
  $id: 'scenario',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'account', 'call'],
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    account: { type: 'string', minLength: 1, description: 'account bundle file, relative to the scenario' },
    callflow: { type: 'string', minLength: 1, description: 'run this callflow file instead of routing call.to' },
    // The id generators take 32 bits: a larger seed would give another seed's ids.
    seed: { type: 'integer', minimum: 0, maximum: 4294967295, default: 1 },
    start_time: { type: 'string', format: 'date-time', default: '2026-01-05T14:00:00Z' },
    max_call_s: { ...seconds, default: 3600, description: 'the switch cuts the call (ALLOTTED_TIMEOUT) after this' },
    call: {
      type: 'object',
      additionalProperties: false,
      required: ['from'],
      properties: {
        from: { type: 'string', minLength: 1, pattern: '^[^\\r\\n]+$' },
        caller_id_name: { type: 'string', pattern: '^[^\\r\\n]*$' },
        to: { type: 'string', minLength: 1, pattern: '^[^\\r\\n]+$' },
        device: { type: 'string', minLength: 1, description: 'the calling device id (sets owner_id)' },
      },
    },
    devices: {
      type: 'object',
      default: {},
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['action'],
        properties: {
          action: { enum: ['answer', 'no_answer', 'busy', 'reject', 'unregistered'] },
          after_s: { ...seconds, description: 'answer: seconds of ringing before answering' },
          hangup_after_s: { ...seconds, description: 'answer: the callee hangs up this long after answering' },
        },
      },
    },
    caller: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        hangup_at_s: { ...seconds, description: 'seconds after the call starts' },
        speaks_s: {
          description: 'seconds of speech into each recording (a list: one per recording, the last repeats)',
          anyOf: [seconds, { type: 'array', minItems: 1, items: seconds }],
          default: 0,
        },
        dtmf: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['digits'],
            properties: {
              digits: { type: 'string', pattern: '^[0-9*#A-D]+$', patternHint: 'DTMF keys (0-9, *, #, A-D)' },
              at_s: seconds,
              on_prompt: { type: 'string', minLength: 1, description: 'a prompt name, a file, or "beep"' },
              after_s: { ...seconds, description: 'on_prompt: delay after the prompt starts', default: 0.2 },
            },
            oneOf: [{ required: ['at_s'] }, { required: ['on_prompt'] }],
            oneOfHint: 'needs either "at_s" or "on_prompt", not both',
          },
        },
      },
    },
    callee: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { hangup_after_s: seconds },
    },
    prompts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        default_s: { ...seconds, default: 1 },
        durations_s: { type: 'object', additionalProperties: seconds, default: {} },
      },
    },
  },
} as const;

export type DeviceAction = 'answer' | 'no_answer' | 'busy' | 'reject' | 'unregistered';

export interface DeviceBehaviour {
  action: DeviceAction;
  after_s?: number;
  hangup_after_s?: number;
}

export interface DtmfAction {
  digits: string;
  at_s?: number;
  on_prompt?: string;
  after_s: number;
}

/** A scenario after validation, defaults filled in. */
export interface Scenario {
  name: string;
  description?: string;
  account: string;
  callflow?: string;
  seed: number;
  start_time: string;
  max_call_s: number;
  call: { from: string; caller_id_name?: string; to?: string; device?: string };
  devices: Record<string, DeviceBehaviour>;
  caller: { hangup_at_s?: number; speaks_s: number | number[]; dtmf: DtmfAction[] };
  callee: { hangup_after_s?: number };
  prompts: { default_s: number; durations_s: Record<string, number> };
}
