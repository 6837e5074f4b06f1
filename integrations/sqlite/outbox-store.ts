import type { Statement } from 'better-sqlite3';
import type { OutboundMessage, OutboxReceipt } from '../../engine/outbox.ts';
import { afterDeliveryHandlers, groupOutcome, type AfterDeliveryHandler } from './after-delivery.ts';
import type { Db } from './open-database.ts';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed';

export interface OutboxRow {
  id: number;
  idempotency_key: string;
  execution_id: string;
  node_key: string;
  medium: 'email' | 'sms';
  recipient: string;
  template_id: string;
  /** JSON of OutboundMessage['email' | 'sms']. */
  message: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  queued_call_at: number;
  sent_at: number | null;
  provider_id: string | null;
  last_error: string | null;
  error_code: string | null;
  claimed_by: string | null;
  lease_until: number | null;
  /** `attempts` when the last manual retry restarted the attempt budget. */
  budget_from: number;
  /** JSON of OutboundMessage['afterDelivery']: messages with the same value form one group. */
  after_delivery: string | null;
}

export interface AttemptRow {
  outbox_id: number;
  attempt: number;
  started_at: number;
  ended_at: number;
  outcome: 'sent' | 'temporary_failure' | 'permanent_failure';
  code: string | null;
  detail: string | null;
}

export type AttemptOutcome =
  | { readonly outcome: 'sent'; readonly providerId: string }
  | { readonly outcome: 'temporary_failure'; readonly code: string | null; readonly detail: string; readonly retryAt: number | null }
  | { readonly outcome: 'permanent_failure'; readonly code: string | null; readonly detail: string };

/**
 * The outbox table: every message is stored before any delivery is tried, keyed by its
 * idempotency key so the same message is never stored (or sent) twice.
 */
export class OutboxStore {
  private readonly insert: Statement;
  private readonly byKey: Statement;
  private readonly claim: Statement;
  private readonly insertAttempt: Statement;
  private readonly markSent: Statement;
  private readonly markRetry: Statement;
  private readonly markFailed: Statement;
  private readonly nextDue: Statement;
  private readonly enqueueAll: (executionId: string, callTime: number, messages: readonly OutboundMessage[]) => OutboxReceipt[];
  private readonly record: (row: OutboxRow, startedAt: number, o: AttemptOutcome) => void;

  constructor(
    private readonly db: Db,
    private readonly wall: { now(): number },
    private readonly handlers: ReadonlyMap<string, AfterDeliveryHandler> = afterDeliveryHandlers,
  ) {
    this.insert = db.prepare(
      `INSERT INTO outbox (idempotency_key, execution_id, node_key, medium, recipient, template_id, message, status,
         next_attempt_at, created_at, queued_call_at, after_delivery)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
       ON CONFLICT (idempotency_key) DO NOTHING`,
    );
    this.byKey = db.prepare('SELECT id FROM outbox WHERE idempotency_key = ?');
    // Due pending messages, and messages whose sender's lease ran out (a hung or vanished sender).
    this.claim = db.prepare(
      `UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_by = @owner, lease_until = @lease
       WHERE id IN (
         SELECT id FROM outbox
         WHERE (status = 'pending' AND next_attempt_at <= @now) OR (status = 'sending' AND lease_until <= @now)
         ORDER BY next_attempt_at, id LIMIT @limit)
       RETURNING *`,
    );
    this.insertAttempt = db.prepare(
      'INSERT INTO outbox_attempts (outbox_id, attempt, started_at, ended_at, outcome, code, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.markSent = db.prepare(
      `UPDATE outbox SET status = 'sent', sent_at = ?, provider_id = ?, last_error = NULL, error_code = NULL WHERE id = ?`,
    );
    this.markRetry = db.prepare(`UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, error_code = ? WHERE id = ?`);
    this.markFailed = db.prepare(`UPDATE outbox SET status = 'failed', last_error = ?, error_code = ? WHERE id = ?`);
    this.nextDue = db.prepare(
      `SELECT MIN(at) AS at FROM (
         SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending'
         UNION ALL SELECT MIN(lease_until) FROM outbox WHERE status = 'sending')`,
    );
    this.enqueueAll = db.transaction((executionId: string, callTime: number, messages: readonly OutboundMessage[]) => {
      const now = this.wall.now();
      return messages.map((m) => {
        const r = this.insert.run(
          m.idempotencyKey, executionId, m.nodeKey, m.medium, m.recipient, m.templateId,
          JSON.stringify(m.medium === 'email' ? m.email : m.sms), now, now, callTime,
          m.afterDelivery ? JSON.stringify(m.afterDelivery) : null,
        );
        if (r.changes === 1) return { id: Number(r.lastInsertRowid), idempotencyKey: m.idempotencyKey, duplicate: false };
        const existing = this.byKey.get(m.idempotencyKey) as { id: number };
        return { id: existing.id, idempotencyKey: m.idempotencyKey, duplicate: true };
      });
    });
    this.record = db.transaction((row: OutboxRow, startedAt: number, o: AttemptOutcome) => {
      const now = this.wall.now();
      const code = o.outcome === 'sent' ? null : o.code;
      const detail = o.outcome === 'sent' ? o.providerId : o.detail;
      this.insertAttempt.run(row.id, row.attempts, startedAt, now, o.outcome, code, detail);
      if (o.outcome === 'temporary_failure' && o.retryAt !== null) {
        // Pending again: its group cannot have settled.
        this.markRetry.run(o.retryAt, o.detail, o.code, row.id);
        return;
      }
      if (o.outcome === 'sent') this.markSent.run(now, o.providerId, row.id);
      else this.markFailed.run(o.detail, code, row.id);
      if (row.after_delivery !== null) this.settleGroup(row.execution_id, row.after_delivery, now);
    });
  }

  /**
   * Once the last message of a group has settled, its after-delivery work runs in the same
   * transaction as that message's record: both happen, or neither.
   */
  private settleGroup(executionId: string, afterDelivery: string, now: number): void {
    const outcome = groupOutcome(this.db, executionId, afterDelivery);
    if (!outcome) return;
    const work = JSON.parse(afterDelivery) as { kind: string; args: Record<string, string | number> };
    const handler = this.handlers.get(work.kind);
    // An unknown kind (written by a newer version) must not block delivery bookkeeping.
    handler?.(this.db, work.args, outcome, now);
  }

  enqueue(executionId: string, callTime: number, messages: readonly OutboundMessage[]): OutboxReceipt[] {
    return this.enqueueAll(executionId, callTime, messages);
  }

  /** Marks up to `limit` due messages as being sent by `owner` (one more attempt each) and returns them. */
  claimDue(limit: number, owner: string, leaseMs: number): OutboxRow[] {
    const now = this.wall.now();
    return this.claim.all({ now, limit, owner, lease: now + leaseMs }) as OutboxRow[];
  }

  recordAttempt(row: OutboxRow, startedAt: number, outcome: AttemptOutcome): void {
    this.record(row, startedAt, outcome);
  }

  /**
   * Messages whose sender died go back to pending (a sender that still runs keeps its own).
   * Their delivery may have happened; an email keeps its Message-ID, so a second copy is
   * recognisably the same message.
   */
  recoverInterrupted(alive: (owner: string) => boolean): number {
    const now = this.wall.now();
    const rows = this.db.prepare(`SELECT id, claimed_by, lease_until FROM outbox WHERE status = 'sending'`).all() as Pick<
      OutboxRow,
      'id' | 'claimed_by' | 'lease_until'
    >[];
    const reset = this.db.prepare(`UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status = 'sending'`);
    let n = 0;
    for (const r of rows) {
      const expired = r.lease_until === null || r.lease_until <= now;
      if (expired || r.claimed_by === null || !alive(r.claimed_by)) n += reset.run(now, r.id).changes;
    }
    return n;
  }

  nextDueAt(): number | undefined {
    return (this.nextDue.get() as { at: number | null }).at ?? undefined;
  }

  counts(): Record<OutboxStatus, number> {
    const out: Record<OutboxStatus, number> = { pending: 0, sending: 0, sent: 0, failed: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as { status: OutboxStatus; n: number }[]) {
      out[r.status] = r.n;
    }
    return out;
  }

  list(opts: { status?: OutboxStatus; executionId?: string; limit: number }): OutboxRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.status) {
      where.push('status = ?');
      args.push(opts.status);
    }
    if (opts.executionId) {
      where.push('execution_id = ?');
      args.push(opts.executionId);
    }
    const sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, opts.limit) as OutboxRow[];
  }

  get(id: number): OutboxRow | undefined {
    return this.db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
  }

  attempts(id: number): AttemptRow[] {
    return this.db.prepare('SELECT * FROM outbox_attempts WHERE outbox_id = ? ORDER BY attempt').all(id) as AttemptRow[];
  }

  /**
   * Pending messages (all, or message `id`) due now rather than at their next retry: someone asked
   * for delivery (a server is back). Returns how many are pending.
   */
  dueNow(id?: number): number {
    const now = this.wall.now();
    const sql = `UPDATE outbox SET next_attempt_at = MIN(next_attempt_at, ?) WHERE status = 'pending'`;
    return (id === undefined ? this.db.prepare(sql).run(now) : this.db.prepare(`${sql} AND id = ?`).run(now, id)).changes;
  }

  /** A failed message goes back to pending, due now, with a fresh attempt budget. False if it was not failed. */
  retry(id: number): boolean {
    return (
      this.db
        .prepare(`UPDATE outbox SET status = 'pending', next_attempt_at = ?, budget_from = attempts WHERE id = ? AND status = 'failed'`)
        .run(this.wall.now(), id).changes === 1
    );
  }
}
