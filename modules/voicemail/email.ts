import { basename, extname } from 'node:path';
import type { AccountView } from '../../engine/call/account-view.ts';
import type { CallControl } from '../../engine/call/call-control.ts';
import type { OutboundMessage } from '../../engine/outbox.ts';
import type { VoicemailMessage } from '../../engine/voicemail.ts';
import { isSafeEmail, unique } from '../notification/addresses.ts';
import { emailAddresses } from '../notification/recipients.ts';
import { checkFrom, renderEmailFields } from '../notification/compose.ts';
import { callerId, dateParts, hoursMinutesSeconds } from '../notification/macros.ts';
import type { TemplateRenderer } from '../notification/renderer.ts';
import type { NotificationTemplate } from '../notification/schema.ts';
import type { Vmbox } from './schema.ts';

export const VOICEMAIL_TEMPLATE_ID = 'voicemail_to_email';

/** Teletype's voicemail_to_email default, used when the account has no template of that id. */
const DEFAULT_TEMPLATE: NotificationTemplate = {
  id: VOICEMAIL_TEMPLATE_ID,
  enabled: true,
  subject: 'New voicemail from {{ caller_id.name_number }}',
  text:
    'You have a new voicemail in box {{ voicemail.box }} ({{ voicemail.vmbox_name }}) from {{ caller_id.name_number }}, ' +
    'left {{ date_called.local }}, {{ voicemail.length }} long.',
  html:
    '<p>You have a new voicemail in box {{ voicemail.box }} ({{ voicemail.vmbox_name }}) from ' +
    '<b>{{ caller_id.name_number }}</b>, left {{ date_called.local }}, {{ voicemail.length }} long.</p>',
};


/**
 * Teletype's voicemail_to_email recipients: the box's notify_email_addresses plus the owner's
 * email when the owner has vm_to_email_enabled; with the flag off, the owner's address is
 * removed even when the box lists it.
 */
export function voicemailRecipients(box: Vmbox, call: CallControl): { readonly recipients: string[]; readonly leftOut: string[] } {
  const owner = box.owner_id ? call.account.user(box.owner_id) : undefined;
  const list = [...box.notify_email_addresses];
  if (owner?.email && owner.vm_to_email_enabled !== false) list.push(owner.email);
  const blocked = owner?.email && owner.vm_to_email_enabled === false ? owner.email.toLowerCase() : undefined;
  const wanted = unique(list.filter((a) => a.toLowerCase() !== blocked));
  return { recipients: wanted.filter(isSafeEmail), leftOut: wanted.filter((a) => !isSafeEmail(a)) };
}

/** The after-notify action KAZOO applies once the email went out (both set: save). */
export const afterNotifyAction = (box: Vmbox): 'save' | 'delete' | 'none' =>
  box.save_after_notify ? 'save' : box.delete_after_notify ? 'delete' : 'none';

/**
 * The template voicemail_to_email is rendered from: the account's own, teletype's default when
 * the account has none, or undefined when the account's is disabled (teletype replies
 * `disabled`: no email, and so no after-notify action).
 */
export function voicemailTemplate(account: AccountView): NotificationTemplate | undefined {
  const own = account.bundle.notificationTemplates.find((t) => t.id === VOICEMAIL_TEMPLATE_ID) as NotificationTemplate | undefined;
  if (!own) return DEFAULT_TEMPLATE;
  return own.enabled === false ? undefined : own;
}

/**
 * One voicemail_to_email message per envelope recipient, rendered from `template` with the
 * voicemail macros, the audio attached when the box says so. The headers are teletype's
 * find_addresses: `to` is the box's recipients unless the template's `to` says otherwise, and
 * the template's `cc`, `bcc` and `reply_to` apply as for any notification. All of them carry the
 * same after-delivery work: the after-notify action, once every one is sent.
 */
export function voicemailEmails(input: {
  readonly call: CallControl;
  readonly box: Vmbox;
  readonly message: VoicemailMessage;
  readonly recipients: readonly string[];
  readonly template: NotificationTemplate;
  readonly renderer: TemplateRenderer;
}): OutboundMessage[] {
  const { call, box, message, template, renderer } = input;
  checkFrom(template);
  const owner = box.owner_id ? call.account.user(box.owner_id) : undefined;
  const tz = call.account.timezone;
  const fileName = basename(message.mediaPath);
  const values = {
    account: { id: call.account.id, name: call.account.bundle.account.name, realm: call.account.realm, timezone: tz },
    caller_id: callerId(message.callerName, message.callerNumber),
    callee_id: { number: message.calleeNumber },
    date_called: { utc: dateParts(message.createdAt, 'UTC'), local: dateParts(message.createdAt, tz), timezone: tz },
    from: { user: message.callerNumber, realm: call.account.realm },
    to: { user: message.calleeNumber, realm: call.account.realm },
    call_id: message.callId,
    user: owner ? { first_name: owner.first_name ?? '', last_name: owner.last_name ?? '', email: owner.email ?? '' } : {},
    voicemail: {
      vmbox_id: box.id,
      vmbox_name: box.name ?? box.mailbox,
      box: box.mailbox,
      msg_id: String(message.id),
      length: hoursMinutesSeconds(message.lengthMs),
      transcription: '',
      file_name: fileName,
      file_type: extname(fileName).slice(1),
      file_size: message.mediaBytes,
    },
  };
  const { subject, text, html } = renderEmailFields(template, values, renderer, { now: message.createdAt, timezone: tz });
  const attachments = box.include_message_on_notify
    ? [{ filename: fileName, path: message.mediaPath, contentType: fileName.endsWith('.mp3') ? 'audio/mpeg' : 'audio/x-wav' }]
    : undefined;
  const nodeKey = `voicemail:${box.id}`;
  const afterDelivery = { kind: 'voicemail.after_notify', args: { messageId: message.id, action: afterNotifyAction(box) } };
  const h = emailAddresses(template, [...input.recipients], call.account);
  const replyTo = template.reply_to && isSafeEmail(template.reply_to) ? template.reply_to : undefined;
  return unique([...h.to, ...h.cc, ...h.bcc]).map((rcpt) => ({
    idempotencyKey: `${call.executionId}|voicemail:${message.id}|email|${rcpt}`,
    medium: 'email' as const,
    recipient: rcpt,
    templateId: template.id,
    nodeKey,
    email: {
      ...(template.from !== undefined ? { from: template.from } : {}),
      ...(replyTo ? { replyTo } : {}),
      to: h.to,
      cc: h.cc,
      subject,
      ...(text !== undefined ? { text } : {}),
      ...(html !== undefined ? { html } : {}),
      ...(attachments ? { attachments } : {}),
    },
    afterDelivery,
  }));
}
