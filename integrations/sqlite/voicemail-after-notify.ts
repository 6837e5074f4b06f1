import type { GroupOutcome } from './after-delivery.ts';
import type { Db } from './open-database.ts';

/**
 * KAZOO's after-notify action (kvm_message:new): `save` moves the message to the saved folder,
 * `delete` to the deleted one, and only when the voicemail email went out. Otherwise the
 * message stays new (KAZOO then publishes voicemail_saved): here, notify_status says failed.
 */
export function voicemailAfterNotify(db: Db, args: Readonly<Record<string, string | number>>, outcome: GroupOutcome, now: number): void {
  const id = Number(args['messageId']);
  if (outcome === 'failed') {
    db.prepare(`UPDATE voicemail_messages SET notify_status = 'failed' WHERE id = ?`).run(id);
    return;
  }
  const folder = args['action'] === 'delete' ? 'deleted' : args['action'] === 'save' ? 'saved' : null;
  if (folder) {
    // Only a message still new: the owner may have listened to it and moved it meanwhile.
    db.prepare(`UPDATE voicemail_messages SET folder = ?, folder_changed_at = ? WHERE id = ? AND folder = 'new'`).run(folder, now, id);
  }
  db.prepare(`UPDATE voicemail_messages SET notify_status = 'sent' WHERE id = ?`).run(id);
}
