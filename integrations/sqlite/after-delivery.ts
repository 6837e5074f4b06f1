import type { Db } from './open-database.ts';
import { voicemailAfterNotify } from './voicemail-after-notify.ts';

/** How a group of outbox messages (one execution's, same `after_delivery`) ended: every one sent, or one failed for good. */
export type GroupOutcome = 'sent' | 'failed';

/** Runs inside the transaction that recorded the last delivery of the group; must be idempotent. */
export type AfterDeliveryHandler = (db: Db, args: Readonly<Record<string, string | number>>, outcome: GroupOutcome, now: number) => void;

/** Registered by name, as modules are: the outbox never knows what a kind means. */
export const afterDeliveryHandlers: ReadonlyMap<string, AfterDeliveryHandler> = new Map([['voicemail.after_notify', voicemailAfterNotify]]);

/** The group's outcome once nothing of it is pending or being sent; undefined while it is still open. */
export function groupOutcome(db: Db, executionId: string, afterDelivery: string): GroupOutcome | undefined {
  const r = db
    .prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(status = 'sent'), 0) AS sent, COALESCE(SUM(status = 'failed'), 0) AS failed
       FROM outbox WHERE execution_id = ? AND after_delivery = ?`,
    )
    .get(executionId, afterDelivery) as { n: number; sent: number; failed: number };
  if (r.sent + r.failed < r.n) return undefined;
  return r.failed > 0 ? 'failed' : 'sent';
}
