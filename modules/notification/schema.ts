import { SAFE_EMAIL_SCHEMA } from './addresses.ts';

/** The callflow data of a `notification` node, exactly as issue 3 specifies it. */
export const notificationSchema = {
  type: 'object',
  required: ['recipients'],
  properties: {
    comments: { type: 'string', description: 'text to include in the notification' },
    notification_media: {
      type: 'array',
      items: { enum: ['email', 'sms'] },
      // An empty list would send nothing and say nothing: absent means email.
      minItems: 1,
      description: 'how to send; email when absent',
    },
    recipients: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['type', 'id'],
        properties: {
          type: { enum: ['user', 'email'] },
          id: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        },
      },
      description: 'users (their email; their mobile_number for SMS) and email addresses',
    },
    send_at: { enum: ['callflow_exec', 'channel_destroy'], default: 'channel_destroy' },
    template_id: { type: 'string', description: 'an account-defined template' },
    skip_module: { type: 'boolean' },
  },
} as const;

export interface NotificationData {
  comments?: string;
  notification_media?: ('email' | 'sms')[];
  recipients: { type: 'user' | 'email'; id: string | string[] }[];
  send_at: 'callflow_exec' | 'channel_destroy';
  template_id?: string;
}

/** Addresses become headers and envelopes: `validate` refuses what sending would have to drop. */
const emailAddress = SAFE_EMAIL_SCHEMA;

const addressList = {
  type: 'object',
  properties: {
    type: { enum: ['original', 'specified', 'admins'] },
    email_addresses: { type: 'array', items: emailAddress, default: [] },
  },
} as const;

/** One item of the account bundle's `notification_templates` (KAZOO's notifications.json, inlined bodies). */
export const templateSchema = {
  type: 'object',
  // `from` may be left to the deployment's sender address (CALLFLOW_MAIL_FROM).
  required: ['id', 'subject'],
  properties: {
    id: { type: 'string', minLength: 1 },
    name: { type: 'string' },
    enabled: { type: 'boolean', default: true },
    from: emailAddress,
    reply_to: emailAddress,
    subject: { type: 'string' },
    to: addressList,
    cc: addressList,
    bcc: addressList,
    text: { type: 'string' },
    html: { type: 'string' },
    sms: {
      type: 'object',
      required: ['body'],
      properties: {
        body: { type: 'string' },
        to: { type: 'array', items: { type: 'string', pattern: '^\\+[1-9][0-9]{1,14}$', patternHint: 'an E.164 number (+15551234567)' }, default: [] },
      },
    },
  },
} as const;

export interface AddressList {
  type?: 'original' | 'specified' | 'admins';
  email_addresses: string[];
}

export interface NotificationTemplate {
  id: string;
  name?: string;
  enabled: boolean;
  from?: string;
  reply_to?: string;
  subject: string;
  to?: AddressList;
  cc?: AddressList;
  bcc?: AddressList;
  text?: string;
  html?: string;
  sms?: { body: string; to: string[] };
}
