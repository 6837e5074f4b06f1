import type { SendMailOptions } from 'nodemailer/lib/mailer';
import { messageIdFor, type EmailDelivery } from '../notify/transport.ts';

export const NO_SENDER = 'no sender address: set the template\'s "from" or CALLFLOW_MAIL_FROM';

/**
 * nodemailer options for one envelope recipient (undefined when there is no sender at all). Headers show the template's To and Cc lists;
 * the envelope carries only this recipient (Bcc never appears in a header).
 */
export function mailOptions(d: EmailDelivery, defaultFrom: string | undefined): SendMailOptions | undefined {
  const e = d.email;
  const from = e.from ?? defaultFrom;
  if (!from) return undefined;
  return {
    envelope: { from, to: [d.recipient] },
    from: { name: '', address: from },
    to: e.to.map((address) => ({ name: '', address })),
    ...(e.cc.length > 0 ? { cc: e.cc.map((address) => ({ name: '', address })) } : {}),
    ...(e.replyTo ? { replyTo: { name: '', address: e.replyTo } } : {}),
    subject: e.subject,
    ...(e.text !== undefined ? { text: e.text } : {}),
    ...(e.html !== undefined ? { html: e.html } : {}),
    ...(e.attachments?.length
      ? { attachments: e.attachments.map((a) => ({ filename: a.filename, path: a.path, contentType: a.contentType })) }
      : {}),
    messageId: messageIdFor(d.idempotencyKey),
    headers: { 'X-Callflow-Execution': d.executionId },
  };
}
