/** JSON Schemas of the documents themselves; each module's `data` schema lives with the module. */

export const flowNodeSchema = {
  $id: 'callflow-node',
  type: 'object',
  required: ['module'],
  properties: {
    module: { type: 'string', minLength: 1, maxLength: 64 },
    data: { type: 'object', default: {} },
    children: {
      type: 'object',
      // A child is a node, or {} (which stops the callflow when reached).
      additionalProperties: { type: 'object', if: { minProperties: 1 }, then: { $ref: 'callflow-node' } },
    },
  },
} as const;

export const callflowSchema = {
  $id: 'callflow',
  type: 'object',
  required: ['id', 'flow'],
  properties: {
    id: { type: 'string', minLength: 1 },
    name: { type: 'string' },
    numbers: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 36 },
      uniqueItems: true,
      default: [],
    },
    patterns: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    flow: { $ref: 'callflow-node' },
  },
} as const;

const idString = { type: 'string', minLength: 1 } as const;

export const accountBundleSchema = {
  $id: 'account-bundle',
  type: 'object',
  required: ['account'],
  additionalProperties: false,
  properties: {
    account: {
      type: 'object',
      required: ['id', 'name', 'realm', 'timezone'],
      properties: {
        id: idString,
        name: { type: 'string' },
        realm: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9.-]+$', patternHint: 'a domain name (letters, digits, "." and "-")' },
        timezone: { type: 'string', minLength: 1 },
      },
    },
    users: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['id'],
        properties: {
          id: idString,
          first_name: { type: 'string' },
          last_name: { type: 'string' },
          username: { type: 'string' },
          email: { type: 'string' },
          mobile_number: {
            type: 'string',
            pattern: '^\\+[1-9][0-9]{1,14}$',
            patternHint: 'an E.164 number (+15551234567)',
            description: 'E.164; where notification SMS to this user go',
          },
          priv_level: { enum: ['admin', 'user'], default: 'user' },
          enabled: { type: 'boolean', default: true },
          vm_to_email_enabled: { type: 'boolean', default: true },
          do_not_disturb: { type: 'object', properties: { enabled: { type: 'boolean' } } },
        },
      },
    },
    devices: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['id', 'sip'],
        properties: {
          id: idString,
          name: { type: 'string' },
          owner_id: idString,
          enabled: { type: 'boolean', default: true },
          do_not_disturb: { type: 'object', properties: { enabled: { type: 'boolean' } } },
          sip: {
            type: 'object',
            required: ['username'],
            properties: {
              username: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.+-]+$', patternHint: 'letters, digits, "_", ".", "+" and "-" only' },
              password: { type: 'string' },
              realm: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9.-]+$', patternHint: 'a domain name (letters, digits, "." and "-")' },
            },
          },
        },
      },
    },
    vmboxes: {
      type: 'array',
      default: [],
      items: { type: 'object', required: ['id', 'mailbox'], properties: { id: idString, mailbox: idString } },
    },
    notification_templates: {
      type: 'array',
      default: [],
      items: { type: 'object', required: ['id'], properties: { id: idString } },
    },
    callflows: {
      type: 'array',
      default: [],
      description: 'callflow documents inline, or paths (relative to this file) of callflow files',
      items: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'object' }] },
    },
  },
} as const;
