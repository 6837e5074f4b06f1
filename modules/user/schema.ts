import { SIP_HEADER_NAME_PATTERN, SIP_HEADER_VALUE_PATTERN } from '../../engine/switch.ts';

/** KAZOO's callflows.user.json, the parts this engine acts on. */
export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, description: 'the user whose devices ring; missing means no endpoints' },
    timeout: { type: 'integer', minimum: 0, default: 20, description: 'seconds the bridge rings (0: the switch default)' },
    delay: { type: 'integer', minimum: 0, default: 0, description: 'seconds before each device starts ringing' },
    strategy: {
      enum: ['simultaneous', 'single'],
      default: 'simultaneous',
      description: 'simultaneous rings every device at once; single rings one after another',
    },
    can_call_self: { type: 'boolean', default: false, description: "ring the caller's own devices too" },
    fail_on_single_reject: {
      type: 'boolean',
      description: 'the first device to refuse the call (busy, rejected, unregistered) before any answered ends the whole bridge with its cause',
    },
    custom_sip_headers: {
      type: 'object',
      description: 'SIP headers (name → value) added to every leg of the bridge',
      propertyNames: { pattern: SIP_HEADER_NAME_PATTERN, patternHint: 'a SIP header name (letters, digits and "-")' },
      additionalProperties: {
        type: 'string',
        pattern: SIP_HEADER_VALUE_PATTERN,
        patternHint:
          'a header value without quotes, backslash, control characters, "," "|" "{" "}" "[" "]", "${" or ":_:", and no space at either end',
      },
    },
    skip_module: { type: 'boolean' },
  },
} as const;

export interface UserData {
  id?: string;
  timeout: number;
  delay: number;
  strategy: 'simultaneous' | 'single';
  can_call_self: boolean;
  fail_on_single_reject?: boolean;
  custom_sip_headers?: Record<string, string>;
}
