import type { SendMailOptions } from 'nodemailer/lib/mailer';
import { messageIdFor, type EmailDelivery } from '../notify/transport.ts';

/**
 * nodemailer options for one envelope recipient. Headers show the template's To and Cc lists;
 * the envelope carries only this recipient (Bcc never appears in a header).
 */
export function mailOptions(d: EmailDelivery): SendMailOptions {
  const e = d.email;
  return {
    envelope: { from: e.from, to: [d.recipient] },
    from: { name: '', address: e.from },
    to: e.to.map((address) => ({ name: '', address })),
    ...(e.cc.length > 0 ? { cc: e.cc.map((address) => ({ name: '', address })) } : {}),
    ...(e.replyTo ? { replyTo: { name: '', address: e.replyTo } } : {}),
    subject: e.subject,
    ...(e.text !== undefined ? { text: e.text } : {}),
    ...(e.html !== undefined ? { html: e.html } : {}),
    messageId: messageIdFor(d.idempotencyKey),
    headers: { 'X-Callflow-Execution': d.executionId },
  };
}
