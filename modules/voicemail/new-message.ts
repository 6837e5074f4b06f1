import type { CallControl, RecordResult } from '../../engine/call/call-control.ts';
import { describeError } from '../../engine/errors.ts';
import type { VoicemailMessage, VoicemailNotifyStatus } from '../../engine/voicemail.ts';
import type { TemplateRenderer } from '../notification/renderer.ts';
import { afterNotifyAction, VOICEMAIL_TEMPLATE_ID, voicemailEmails, voicemailRecipients, voicemailTemplate } from './email.ts';
import type { Vmbox } from './schema.ts';
import { VOICEMAIL_DEFAULTS } from './settings.ts';

export type LeaveOutcome = 'stored' | 'discarded' | 'not_stored';

/** The message-waiting update KAZOO sends for the box, recorded in the step log. */
export function noteMwi(call: CallControl, box: Vmbox): void {
  const store = call.voicemail;
  if (!store) return;
  try {
    const c = store.count(call.account.id, box.id);
    call.note(`message-waiting update for box ${box.mailbox}: ${c.new} new, ${c.saved} saved`);
  } catch (err) {
    call.note(`message-waiting update for box ${box.mailbox} not sent: ${describeError(err).message}`);
  }
}

/**
 * KAZOO's new_message: a recording under min_message_size is no message; otherwise it is stored
 * (metadata and audio) and only then does the call get `message_left`; voicemail_new goes out by
 * email through the outbox with the after-notify action attached; then the MWI update.
 *
 * Deliberate difference: KAZOO sets `message_left` before it looks at the length, so a discarded
 * sub-500 ms recording still reads as "message left" to post-hangup notifications (a false
 * positive of exactly the kind PR #5984 fixed). Here `message_left` means a message was kept.
 */
export function leaveMessage(call: CallControl, box: Vmbox, rec: RecordResult, renderer: TemplateRenderer): LeaveOutcome {
  const store = call.voicemail;
  if (rec.recordMs < VOICEMAIL_DEFAULTS.minMessageMs) {
    try {
      store?.discardRecording(rec.path);
    } catch (err) {
      call.note(`could not remove the short recording ${rec.path}: ${describeError(err).message}`);
    }
    call.note(`recording of ${rec.recordMs} ms is under ${VOICEMAIL_DEFAULTS.minMessageMs} ms: discarded, no message, no notification`);
    return 'discarded';
  }
  if (!store) {
    call.note('no voicemail store is configured: the message cannot be kept');
    return 'not_stored';
  }
  const { recipients, leftOut } = voicemailRecipients(box, call);
  // As the notification module does: an address that cannot be sent to is named, not dropped.
  const notes: string[] = leftOut.map((a) => `voicemail_new: ${JSON.stringify(a)} is not a valid address: left out`);
  // The voicemail-to-email is queued in the same transaction as the message: both or neither.
  const template = voicemailTemplate(call.account);
  const queueEmail = (message: VoicemailMessage): VoicemailNotifyStatus => {
    if (!template) {
      notes.push(`voicemail_new: the account's ${VOICEMAIL_TEMPLATE_ID} template is disabled: no email, so no after-notify action: the message stays new (voicemail_saved)`);
      return 'ignored';
    }
    const noRecipient = (): VoicemailNotifyStatus => {
      notes.push('voicemail_new: no recipient (ignored), so no after-notify action: the message stays new (voicemail_saved)');
      return 'ignored';
    };
    try {
      const emails = voicemailEmails({ call, box, message, recipients, template, renderer });
      // Teletype's find_addresses decides: with no box recipient, a template `to` of type
      // `specified` still sends to its own addresses; nobody at all (an empty box list, or
      // to.type admins with no admin) is teletype's `ignored`.
      if (emails.length === 0) return noRecipient();
      const receipts = call.sendMessages(emails);
      const action = afterNotifyAction(box);
      notes.push(
        `voicemail_new: email to ${emails.map((m) => m.recipient).join(', ')} queued (outbox ${receipts.map((r) => `#${r.id}`).join(', ')})` +
          `${box.include_message_on_notify ? ', audio attached' : ''}; after-notify action: ${action}` +
          `${action === 'none' ? '' : ' once every copy is sent'}`,
      );
      return 'pending';
    } catch (err) {
      notes.push(`voicemail_new not sent: ${describeError(err).message}; the message stays new`);
      return 'failed';
    }
  };
  let message: VoicemailMessage;
  try {
    message = store.save(
      {
        accountId: call.account.id,
        boxId: box.id,
        mailbox: box.mailbox,
        callerNumber: call.info.callerNumber,
        callerName: call.info.callerName,
        calleeNumber: call.info.calleeNumber,
        callId: call.info.callId,
        executionId: call.executionId,
        lengthMs: rec.recordMs,
        createdAt: call.now(),
        recordingPath: rec.path,
        notifyStatus: template ? 'pending' : 'ignored',
      },
      queueEmail,
    );
  } catch (err) {
    // KAZOO stops here too: no stored audio, no notification.
    call.note(`message not stored: ${describeError(err).message}`);
    return 'not_stored';
  }
  call.markMessageLeft();
  call.note(`message ${message.id} stored in box ${box.mailbox}: ${rec.recordMs} ms, ${message.mediaPath}`);
  for (const n of notes) call.note(n);
  noteMwi(call, box);
  return 'stored';
}
