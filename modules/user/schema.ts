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
    fail_on_single_reject: { type: 'boolean' },
    custom_sip_headers: { type: 'object' },
    skip_module: { type: 'boolean' },
  },
} as const;

export interface UserData {
  id?: string;
  timeout: number;
  delay: number;
  strategy: 'simultaneous' | 'single';
  can_call_self: boolean;
}
