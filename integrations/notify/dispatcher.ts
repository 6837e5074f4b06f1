import type { Logger } from '../../engine/execution.ts';
import { printable } from '../../engine/text.ts';
import type { OutboundEmail, OutboundSms } from '../../engine/outbox.ts';
import type { AttemptOutcome, OutboxRow, OutboxStore } from '../sqlite/outbox-store.ts';
import { processAlive, processTag } from '../sqlite/process-identity.ts';
import type { DeliveryResult, EmailTransport, SmsTransport } from './transport.ts';

// Server replies and addresses go to a terminal: no control characters.
const errText = (err: unknown): string => printable(err instanceof Error ? err.message : String(err));

export interface RetryPolicy {
  /** First retry after this long; each next one waits twice as long, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** After this many attempts a temporary failure is final. */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 300_000, maxAttempts: 8 };

/** How long a claimed message is this dispatcher's alone (well past any transport timeout). */
const LEASE_MS = 10 * 60_000;
/** After the outbox itself failed (a lock held too long, a disk error), look again this much later. */
const STORE_RETRY_MS = 1000;

export interface DispatcherOptions {
  readonly email: EmailTransport;
  readonly sms: SmsTransport;
  readonly retry?: RetryPolicy;
  /** Deliveries in flight at once. */
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly wall?: { now(): number };
}

export interface DrainResult {
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
}

/**
 * Delivers what the outbox holds: claims due messages, hands each to its transport, records
 * every attempt, retries temporary failures with exponential backoff, and keeps permanent
 * failures with their reason. Runs on real time: delivery is real-world I/O even in a
 * simulation.
 */
export class OutboxDispatcher {
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  private readonly wall: { now(): number };
  private inFlight = 0;
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Drains still running: they read the outbox once more, so closing waits for them. */
  private draining = 0;
  private readonly idle = new Set<() => void>();
  /** This dispatcher's name on the messages it claims. */
  private readonly owner = processTag(Math.random().toString(36).slice(2, 10));

  constructor(
    private readonly store: OutboxStore,
    private readonly opts: DispatcherOptions,
  ) {
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.concurrency = opts.concurrency ?? 8;
    this.wall = opts.wall ?? Date;
  }

  /** Resumes after a restart: interrupted sends go back to pending, and delivery starts. */
  start(): void {
    try {
      const n = this.store.recoverInterrupted(processAlive);
      if (n > 0) this.opts.logger?.warn(`outbox: ${n} message(s) were being sent when the last process stopped: retrying`);
    } catch (err) {
      this.opts.logger?.warn(`outbox: cannot recover interrupted sends yet: ${errText(err)}`);
    }
    this.kick();
  }

  /** Something may be due: look now. */
  kick(): void {
    if (this.closed || this.pumping) return;
    this.pumping = true;
    queueMicrotask(() => {
      this.pumping = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    const free = this.concurrency - this.inFlight;
    try {
      if (free > 0) {
        for (const row of this.store.claimDue(free, this.owner, LEASE_MS)) {
          this.inFlight++;
          void this.deliver(row).finally(() => {
            this.inFlight--;
            // Closing takes no new work, but a drain waits for this send's record.
            if (this.closed) this.wakeIdle();
            else this.kick();
          });
        }
      }
      if (this.inFlight === 0) this.armTimer();
    } catch (err) {
      // The outbox is unreadable for now (a lock held past busy_timeout, a disk error): nothing
      // is lost, it is all in the table; look again shortly.
      this.opts.logger?.warn(`outbox: cannot read the outbox: ${errText(err)}; retrying`);
      this.setTimer(STORE_RETRY_MS);
    }
  }

  private setTimer(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(0, ms));
    this.timer.unref();
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.store.nextDueAt();
    if (next !== undefined) this.setTimer(next - this.wall.now());
    this.wakeIdle();
  }

  /** Drains look again at what is in flight and due. */
  private wakeIdle(): void {
    for (const resolve of [...this.idle]) resolve();
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const startedAt = this.wall.now();
    let result: DeliveryResult;
    try {
      const body = JSON.parse(row.message) as OutboundEmail | OutboundSms;
      result =
        row.medium === 'email'
          ? await this.opts.email.send({
              outboxId: row.id,
              idempotencyKey: row.idempotency_key,
              executionId: row.execution_id,
              recipient: row.recipient,
              email: body as OutboundEmail,
            })
          : await this.opts.sms.send({ outboxId: row.id, idempotencyKey: row.idempotency_key, recipient: row.recipient, sms: body as OutboundSms });
    } catch (err) {
      result = { ok: false, temporary: true, code: null, reason: `transport failed: ${(err as Error).message}` };
    }
    let outcome: AttemptOutcome;
    if (result.ok) {
      outcome = { outcome: 'sent', providerId: result.providerId };
    } else if (result.temporary && row.attempts - row.budget_from < this.retry.maxAttempts) {
      const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (row.attempts - row.budget_from - 1));
      outcome = { outcome: 'temporary_failure', code: result.code, detail: result.reason, retryAt: this.wall.now() + delay };
    } else {
      const detail = result.temporary ? `gave up after ${row.attempts - row.budget_from} attempts: ${result.reason}` : result.reason;
      outcome = result.temporary
        ? { outcome: 'temporary_failure', code: result.code, detail, retryAt: null }
        : { outcome: 'permanent_failure', code: result.code, detail };
      this.opts.logger?.warn(`outbox: message ${row.id} to ${printable(row.recipient)} failed: ${printable(detail)}`);
    }
    // The delivery happened (or not); losing its record would mean sending it again after the
    // lease, so try the write a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        this.store.recordAttempt(row, startedAt, outcome);
        return;
      } catch (err) {
        if (attempt >= 3) {
          this.opts.logger?.warn(`outbox: cannot record attempt for message ${row.id}: ${errText(err)}; it stays claimed until its lease ends`);
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  /**
   * Waits until nothing is in flight and nothing is due before `timeoutMs` from now (messages
   * waiting for a later retry stay pending), or until the timeout. Once the dispatcher is
   * closing, it waits for the sends in flight only: the counts then include their outcome.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    const deadline = this.wall.now() + timeoutMs;
    this.kick();
    this.draining++;
    try {
      while (this.wall.now() < deadline && (this.inFlight > 0 || this.dueBefore(deadline))) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(1, Math.min(100, deadline - this.wall.now())));
          const done = (): void => {
            clearTimeout(t);
            this.idle.delete(done);
            resolve();
          };
          this.idle.add(done);
        });
      }
      const c = this.store.counts();
      return { pending: c.pending + c.sending, sent: c.sent, failed: c.failed };
    } finally {
      this.draining--;
    }
  }

  /** Whether a message (a retry, a lapsed lease) comes due by `deadline` and will be tried. */
  private dueBefore(deadline: number): boolean {
    if (this.closed) return false;
    try {
      const next = this.store.nextDueAt();
      return next !== undefined && next <= deadline;
    } catch {
      return true; // unreadable for now: keep waiting, up to the deadline
    }
  }

  /**
   * Takes no more work and stops waiting for retries; resolves once the sends in flight are
   * recorded (ended there, a message would stay 'sending' and go out again after a restart)
   * and every drain has read its counts, so the caller may close the database. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.wakeIdle();
    while (this.inFlight > 0 || this.draining > 0) await new Promise((r) => setTimeout(r, 5));
    this.opts.email.close();
    this.opts.sms.close();
  }
}
