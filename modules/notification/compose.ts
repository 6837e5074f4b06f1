import type { AccountView } from '../../engine/call/account-view.ts';
import type { FinalCallState } from '../../engine/call/call-control.ts';
import type { OutboundMessage } from '../../engine/outbox.ts';
import { headerText, isSafeEmail, unique } from './addresses.ts';
import { buildMacros } from './macros.ts';
import { emailAddresses, resolveRecipients } from './recipients.ts';
import { TemplateError, type RenderTime, type TemplateRenderer } from './renderer.ts';
import type { NotificationData, NotificationTemplate } from './schema.ts';

export interface Composition {
  readonly messages: OutboundMessage[];
  readonly notes: string[];
  /** Media whose template would not render: nothing of theirs is in `messages`; the others are. */
  readonly failures: TemplateError[];
}


/** A template's `from` must be one plain address: it becomes a header. */
export function checkFrom(template: NotificationTemplate): void {
  if (template.from !== undefined && !isSafeEmail(template.from)) {
    throw new TemplateError(template.id, 'from', `"${headerText(template.from)}" is not a valid address`);
  }
}

/** An email's rendered fields: the subject kept to one header line, text and html when the template has them. */
export function renderEmailFields(
  template: NotificationTemplate,
  values: Record<string, unknown>,
  renderer: TemplateRenderer,
  time: RenderTime,
): { subject: string; text: string | undefined; html: string | undefined } {
  return {
    subject: headerText(renderer.render(template.id, 'subject', template.subject, values, 'text', time)),
    text: template.text === undefined ? undefined : renderer.render(template.id, 'text', template.text, values, 'text', time),
    html: template.html === undefined ? undefined : renderer.render(template.id, 'html', template.html, values, 'html', time),
  };
}

/**
 * Everything one notification sends: for each medium, the recipients resolved now, the
 * template rendered with the call's state, one outbox message per envelope recipient. A field
 * that does not render fails its own medium only: a broken SMS body does not cost the email.
 */
export function compose(input: {
  readonly data: NotificationData;
  readonly state: FinalCallState;
  readonly account: AccountView;
  readonly executionId: string;
  readonly nodeKey: string;
  readonly sentAt: number;
  readonly renderer: TemplateRenderer;
}): Composition {
  const { data, account, renderer } = input;
  const notes: string[] = [];
  // "now" in a template is the moment of the send, by the call's clock; dates in the account's zone.
  const time: RenderTime = { now: input.sentAt, timezone: account.timezone };
  const templateId = data.template_id!;
  const template = account.bundle.notificationTemplates.find((t) => t.id === templateId) as NotificationTemplate | undefined;
  if (!template) return { messages: [], notes: [`no template "${templateId}" in the account: nothing sent`], failures: [] };
  if (template.enabled === false) return { messages: [], notes: [`template "${templateId}" is disabled: nothing sent`], failures: [] };

  const messages: OutboundMessage[] = [];
  const failures: TemplateError[] = [];
  const key = (medium: string, recipient: string): string => `${input.executionId}|${input.nodeKey}|${medium}|${recipient}`;
  const base = { templateId, nodeKey: input.nodeKey };

  const emailMessages = (callflowTo: string[] | undefined, values: Record<string, unknown>): OutboundMessage[] => {
    checkFrom(template);
    const h = emailAddresses(template, callflowTo, account);
    const envelope = unique([...h.to, ...h.cc, ...h.bcc]);
    if (envelope.length === 0) {
      notes.push('email: no recipient (none resolved, none in the template): nothing sent');
      return [];
    }
    const { subject, text, html } = renderEmailFields(template, values, renderer, time);
    const replyTo = template.reply_to && isSafeEmail(template.reply_to) ? template.reply_to : undefined;
    return envelope.map((rcpt) => ({
      ...base,
      idempotencyKey: key('email', rcpt),
      medium: 'email' as const,
      recipient: rcpt,
      email: {
        ...(template.from !== undefined ? { from: template.from } : {}),
        ...(replyTo ? { replyTo } : {}),
        to: h.to,
        cc: h.cc,
        subject,
        ...(text !== undefined ? { text } : {}),
        ...(html !== undefined ? { html } : {}),
      },
    }));
  };

  const smsMessages = (callflowTo: string[] | undefined, values: Record<string, unknown>): OutboundMessage[] => {
    if (!template.sms) {
      notes.push(`sms: template "${templateId}" has no sms body: nothing sent`);
      return [];
    }
    const numbers = callflowTo ?? template.sms.to;
    if (numbers.length === 0) {
      notes.push('sms: no recipient (none resolved, none in the template): nothing sent');
      return [];
    }
    const body = renderer.render(templateId, 'sms.body', template.sms.body, values, 'text', time);
    return unique(numbers).map((number) => ({ ...base, idempotencyKey: key('sms', number), medium: 'sms' as const, recipient: number, sms: { body } }));
  };

  for (const medium of unique<'email' | 'sms'>(data.notification_media ?? ['email'])) {
    const resolved = resolveRecipients(data, account, medium);
    notes.push(...resolved.notes);
    // KAZOO leaves `To` out when no recipient resolved, so the template's own addresses apply.
    const callflowTo = resolved.values.length > 0 ? resolved.values : undefined;
    const values = buildMacros(input.state, account, data, callflowTo, input.sentAt);
    try {
      messages.push(...(medium === 'email' ? emailMessages(callflowTo, values) : smsMessages(callflowTo, values)));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      failures.push(err);
      notes.push(`${medium}: not sent: ${err.message}`);
    }
  }
  return { messages, notes, failures };
}
