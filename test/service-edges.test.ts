import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../engine/outbox.ts';
import { OutboxDispatcher } from '../integrations/notify/dispatcher.ts';
import { SmtpTransport } from '../integrations/email/smtp-transport.ts';
import { TwilioTransport } from '../integrations/sms/twilio-transport.ts';
import { groupOutcome, type AfterDeliveryHandler } from '../integrations/sqlite/after-delivery.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { OutboxStore, type AttemptOutcome, type OutboxRow } from '../integrations/sqlite/outbox-store.ts';
import { SqliteVoicemailStore } from '../integrations/sqlite/voicemail-store.ts';
import { ACCOUNT_SID, AUTH_TOKEN } from './support/notify.ts';
import { until } from './support/scripted-fs.ts';
import { tempDir } from './support/sim.ts';
import { TestTwilioServer, type TwilioError } from './support/twilio-server.ts';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A wall clock the test moves by hand. */
const manualClock = (t: number) => ({
  t,
  now(): number {
    return this.t;
  },
});

const sms = (key: string, over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  idempotencyKey: key,
  medium: 'sms',
  recipient: '+15550000001',
  templateId: 't',
  nodeKey: 'n',
  sms: { body: 'hello' },
  ...over,
});

/** Queues one message and returns its outbox id. */
const enqueueOne = (store: OutboxStore, m: OutboundMessage): number => store.enqueue('exec-1', 0, [m])[0]!.id;

const sent: AttemptOutcome = { outcome: 'sent', providerId: 'SM1' };

/** How long these tests wait for the dispatcher's work (a loopback HTTP round trip and a SQLite write). */
const WAIT_MS = 5000;

/** A local Twilio-like server; `errorFor` decides each answer. */
async function twilioServer(errorFor: (to: string, n: number) => TwilioError | undefined): Promise<TestTwilioServer> {
  const server = new TestTwilioServer(ACCOUNT_SID, AUTH_TOKEN, errorFor);
  await server.listen();
  cleanup.push(() => server.close());
  return server;
}

const twilioFor = (server: TestTwilioServer) =>
  new TwilioTransport({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: '+15550009999', baseUrl: server.baseUrl });

/** An email transport that must not be used (these tests send SMS only). */
const noEmail = {
  description: 'unused',
  send: () => Promise.reject(new Error('no email expected')),
  close() {},
};

describe('outbox dispatcher: retries', () => {
  it('the default backoff schedules the next attempts 1 s, 2 s, then 4 s after each temporary failure (by the injected clock)', async () => {
    const twilio = await twilioServer(() => ({ status: 503, code: 20500, message: 'Service Unavailable' }));
    const wall = manualClock(1_700_000_000_000);
    const db = openDatabase(join(tempDir(), 'o.db'));
    const store = new OutboxStore(db, wall);
    const id = enqueueOne(store, sms('k1'));
    // No retry policy given: DEFAULT_RETRY.
    const dispatcher = new OutboxDispatcher(store, { email: noEmail, sms: twilioFor(twilio), wall });
    cleanup.push(() => dispatcher.close());
    dispatcher.start();

    const scheduled: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await until(`attempt ${attempt} recorded`, () => store.attempts(id).length === attempt, WAIT_MS);
      const row = store.get(id)!;
      expect(row.status).toBe('pending');
      scheduled.push(row.next_attempt_at - wall.now());
      // Not due a millisecond early...
      wall.t = row.next_attempt_at - 1;
      dispatcher.kick();
      await new Promise((r) => setTimeout(r, 50));
      expect(store.attempts(id)).toHaveLength(attempt);
      // ...and taken when due.
      wall.t = row.next_attempt_at;
      dispatcher.kick();
    }
    expect(scheduled).toEqual([1000, 2000, 4000]);
    await until('attempt 4 recorded', () => store.attempts(id).length === 4, WAIT_MS);
    expect(store.attempts(id).map((a) => a.outcome)).toEqual(Array(4).fill('temporary_failure'));
    expect(twilio.requests).toHaveLength(4);
  });

  /** An outbox store whose dispatcher's connection does not wait for locks: a held lock is SQLITE_BUSY at once. */
  function busyScene() {
    const file = join(tempDir(), 'o.db');
    const db = openDatabase(file);
    db.pragma('busy_timeout = 0');
    const locker = openDatabase(file);
    cleanup.push(() => {
      if (locker.inTransaction) locker.exec('ROLLBACK');
    });
    const errors: string[] = [];
    class WatchedStore extends OutboxStore {
      calls = 0;
      onFailure: () => void = () => {};
      override recordAttempt(row: OutboxRow, startedAt: number, outcome: AttemptOutcome): void {
        this.calls++;
        try {
          super.recordAttempt(row, startedAt, outcome);
        } catch (err) {
          errors.push(String((err as { code?: string }).code));
          this.onFailure();
          throw err;
        }
      }
    }
    const store = new WatchedStore(db, Date);
    const warnings: string[] = [];
    const logger = { info() {}, warn: (l: string) => warnings.push(l) };
    return { db, locker, store, errors, warnings, logger };
  }

  it('recording an attempt that meets SQLITE_BUSY is tried 3 times, then given up with a warning (the message stays claimed)', async () => {
    const { locker, store, errors, warnings, logger } = busyScene();
    // Another connection takes the write lock while the SMS is on its way, and keeps it.
    const twilio = await twilioServer(() => {
      locker.exec('BEGIN IMMEDIATE');
      return undefined;
    });
    const id = enqueueOne(store, sms('k1'));
    const dispatcher = new OutboxDispatcher(store, { email: noEmail, sms: twilioFor(twilio), logger });
    cleanup.push(() => dispatcher.close());
    dispatcher.start();
    await until('the give-up warning', () => warnings.some((w) => w.startsWith('outbox: cannot record attempt')), WAIT_MS);
    // Waited long enough for a 4th try (100 ms, 200 ms, then 300 ms), there is none.
    await new Promise((r) => setTimeout(r, 600));
    expect(store.calls).toBe(3);
    expect(errors).toEqual(['SQLITE_BUSY', 'SQLITE_BUSY', 'SQLITE_BUSY']);
    expect(warnings.filter((w) => w.startsWith('outbox: cannot record attempt'))).toEqual([
      `outbox: cannot record attempt for message ${id}: database is locked; it stays claimed until its lease ends`,
    ]);
    locker.exec('ROLLBACK');
    expect(twilio.delivered).toHaveLength(1);
    expect(store.get(id)!.status).toBe('sending');
    expect(store.attempts(id)).toEqual([]);
    await dispatcher.close();
  });

  it('a lock released after the first SQLITE_BUSY: the retried write records the delivery', async () => {
    const { locker, store, errors, logger } = busyScene();
    const twilio = await twilioServer(() => {
      locker.exec('BEGIN IMMEDIATE');
      return undefined;
    });
    store.onFailure = () => {
      if (locker.inTransaction) locker.exec('COMMIT');
    };
    const id = enqueueOne(store, sms('k1'));
    const dispatcher = new OutboxDispatcher(store, { email: noEmail, sms: twilioFor(twilio), logger });
    cleanup.push(() => dispatcher.close());
    dispatcher.start();
    await until('the delivery recorded', () => store.get(id)!.status === 'sent', WAIT_MS);
    expect(errors).toEqual(['SQLITE_BUSY']);
    expect(store.calls).toBe(2);
    expect(store.attempts(id).map((a) => a.outcome)).toEqual(['sent']);
    expect(twilio.delivered).toHaveLength(1);
    await dispatcher.close();
  });
});

describe('outbox store', () => {
  it("a sender's expired lease is taken by another worker exactly when it ends, not a millisecond before", () => {
    const wall = manualClock(10_000);
    const store = new OutboxStore(openDatabase(join(tempDir(), 'o.db')), wall);
    const id = enqueueOne(store, sms('k1'));
    expect(store.claimDue(5, 'worker-a', 1000).map((r) => [r.id, r.claimed_by, r.lease_until])).toEqual([[id, 'worker-a', 11_000]]);
    wall.t = 10_999;
    expect(store.claimDue(5, 'worker-b', 1000)).toEqual([]);
    wall.t = 11_000;
    const [again] = store.claimDue(5, 'worker-b', 1000);
    expect(again).toMatchObject({ id, status: 'sending', claimed_by: 'worker-b', attempts: 2, lease_until: 12_000 });
    // The new lease holds against the first worker too.
    expect(store.claimDue(5, 'worker-a', 1000)).toEqual([]);
  });

  it('an attempt is recorded in one transaction with its message: when the after-delivery work fails, neither is written', () => {
    const db = openDatabase(join(tempDir(), 'o.db'));
    const failing: AfterDeliveryHandler = () => {
      throw new Error('after-delivery failed');
    };
    const store = new OutboxStore(db, Date, new Map([['test.fail', failing]]));
    const id = enqueueOne(store, sms('k1', { afterDelivery: { kind: 'test.fail', args: {} } }));
    const [row] = store.claimDue(1, 'w', 60_000);
    expect(() => store.recordAttempt(row!, Date.now(), sent)).toThrow('after-delivery failed');
    // Rolled back whole: no attempt row without its status, the message still claimed.
    expect(store.attempts(id)).toEqual([]);
    expect(store.get(id)).toMatchObject({ status: 'sending', sent_at: null, provider_id: null });
  });

  it('a group settles only once every message of it is sent: one still pending keeps it open', () => {
    const db = openDatabase(join(tempDir(), 'o.db'));
    const settled: string[] = [];
    const store = new OutboxStore(db, Date, new Map<string, AfterDeliveryHandler>([['test.note', (_db, args, outcome) => settled.push(`${args['tag']}:${outcome}`)]]));
    const after = { kind: 'test.note', args: { tag: 'g' } };
    store.enqueue('exec-1', 0, [sms('k1', { afterDelivery: after }), sms('k2', { afterDelivery: after, recipient: '+15550000002' })]);
    const [first, second] = store.claimDue(2, 'w', 60_000);
    expect(groupOutcome(db, 'exec-1', JSON.stringify(after))).toBeUndefined();
    store.recordAttempt(first!, Date.now(), sent);
    // One sent, one still being sent: not settled.
    expect(groupOutcome(db, 'exec-1', JSON.stringify(after))).toBeUndefined();
    expect(settled).toEqual([]);
    store.recordAttempt(second!, Date.now(), sent);
    expect(groupOutcome(db, 'exec-1', JSON.stringify(after))).toBe('sent');
    expect(settled).toEqual(['g:sent']);
  });
});

describe('voicemail after-notify', () => {
  const newVoicemail = (dir: string, name: string, createdAt: number) => {
    mkdirSync(join(dir, 'rec'), { recursive: true });
    const recordingPath = join(dir, 'rec', name);
    writeFileSync(recordingPath, `audio of ${name}`);
    return {
      accountId: 'acc-1', boxId: 'vm-alice', mailbox: '2000', callerNumber: '+1555', callerName: 'C', calleeNumber: '100',
      callId: `call-${name}`, executionId: `0190a1b2-c3d4-7000-8000-00000000${String(createdAt % 10_000).padStart(4, '0')}`,
      lengthMs: 2000, createdAt, notifyStatus: 'pending' as const, recordingPath,
    };
  };

  it('moves only a message still in the new folder: one the owner saved meanwhile stays saved', () => {
    const dir = tempDir();
    const db = openDatabase(join(dir, 'o.db'));
    const voicemail = new SqliteVoicemailStore(db, join(dir, 'voicemail'));
    const outbox = new OutboxStore(db, Date);
    const listened = voicemail.save(newVoicemail(dir, 'a.wav', 1));
    const untouched = voicemail.save(newVoicemail(dir, 'b.wav', 2));
    const email = (key: string, messageId: number): OutboundMessage => ({
      idempotencyKey: key, medium: 'email', recipient: 'alice@test.local', templateId: 'voicemail_to_email', nodeKey: 'voicemail:vm-alice',
      email: { from: 'pbx@test.local', to: ['alice@test.local'], cc: [], subject: 'VM', text: 'x' },
      afterDelivery: { kind: 'voicemail.after_notify', args: { messageId, action: 'delete' } },
    });
    outbox.enqueue('exec-1', 0, [email('k1', listened.id), email('k2', untouched.id)]);
    const rows = outbox.claimDue(2, 'w', 60_000);
    // The owner listened to the first message and kept it before its email went out.
    voicemail.moveTo(listened.id, 'saved');
    for (const r of rows) outbox.recordAttempt(r, Date.now(), sent);
    expect(voicemail.get(listened.id)).toMatchObject({ folder: 'saved', notifyStatus: 'sent' });
    expect(voicemail.get(untouched.id)).toMatchObject({ folder: 'deleted', notifyStatus: 'sent' });
  });

  it('a box lists its messages oldest first', () => {
    const dir = tempDir();
    const voicemail = new SqliteVoicemailStore(openDatabase(join(dir, 'o.db')), join(dir, 'voicemail'));
    const ids = [1000, 2000, 3000].map((t, i) => voicemail.save(newVoicemail(dir, `${i}.wav`, t)).id);
    const listed = voicemail.list('acc-1', 'vm-alice', 'new');
    expect(listed.map((m) => m.id)).toEqual(ids);
    expect(listed.map((m) => m.createdAt)).toEqual([1000, 2000, 3000]);
  });

  it('a message whose media path cannot be stored is rolled back and its audio goes back where the switch left it', () => {
    const dir = tempDir();
    const db = openDatabase(join(dir, 'o.db'));
    // The UPDATE that records the stored file's path fails (as a full disk or an I/O error would).
    db.exec(`CREATE TRIGGER refuse_media BEFORE UPDATE OF media_path ON voicemail_messages WHEN NEW.media_path != ''
             BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`);
    const voicemail = new SqliteVoicemailStore(db, join(dir, 'voicemail'));
    const m = newVoicemail(dir, 'left.wav', 1);
    expect(() => voicemail.save(m)).toThrow('disk I/O error (test)');
    expect(existsSync(m.recordingPath)).toBe(true);
    expect(readFileSync(m.recordingPath, 'utf8')).toBe('audio of left.wav');
    expect(readdirSync(join(dir, 'voicemail', 'acc-1', 'vm-alice'))).toEqual([]);
    expect(voicemail.list('acc-1', 'vm-alice', 'new')).toEqual([]);
  });

  it('a failure after the media path is stored (the email queued with it, or its status) also rolls back and puts the audio back', () => {
    const dir = tempDir();
    const db = openDatabase(join(dir, 'o.db'));
    const voicemail = new SqliteVoicemailStore(db, join(dir, 'voicemail'));
    const putBack = (m: { recordingPath: string }, name: string) => {
      expect(readFileSync(m.recordingPath, 'utf8')).toBe(`audio of ${name}`);
      expect(readdirSync(join(dir, 'voicemail', 'acc-1', 'vm-alice'))).toEqual([]);
      expect(voicemail.list('acc-1', 'vm-alice', 'new')).toEqual([]);
    };
    const queued = newVoicemail(dir, 'queued.wav', 1);
    expect(() =>
      voicemail.save(queued, () => {
        throw new Error('outbox write failed (test)');
      }),
    ).toThrow('outbox write failed (test)');
    putBack(queued, 'queued.wav');

    db.exec(`CREATE TRIGGER refuse_status BEFORE UPDATE OF notify_status ON voicemail_messages
             BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`);
    const status = newVoicemail(dir, 'status.wav', 2);
    expect(() => voicemail.save(status, () => 'failed')).toThrow('disk I/O error (test)');
    putBack(status, 'status.wav');
  });
});

describe('SMTP transport settings', () => {
  const options = (t: SmtpTransport): Record<string, unknown> =>
    (t as unknown as { mailer: { transporter: { options: Record<string, unknown> } } }).mailer.transporter.options;
  const transport = (url: string, more: Record<string, unknown> = {}) => {
    const t = new SmtpTransport({ url, ...more });
    cleanup.push(() => t.close());
    return t;
  };

  it('credentials for a host beyond this machine over smtp: require STARTTLS; loopback, smtps or no credentials do not', () => {
    expect(options(transport('smtp://mailer:secret@mail.example.com:587'))).toMatchObject({ requireTLS: true, secure: false, auth: { user: 'mailer', pass: 'secret' } });
    expect(options(transport('smtp://mail.example.com:587', { user: 'mailer', password: 'secret' }))).toMatchObject({ requireTLS: true });
    expect(options(transport('smtp://mailer:secret@127.0.0.1:2525')).requireTLS).toBeUndefined();
    expect(options(transport('smtp://mailer:secret@localhost:2525')).requireTLS).toBeUndefined();
    expect(options(transport('smtps://mailer:secret@mail.example.com')).requireTLS).toBeUndefined();
    expect(options(transport('smtp://mail.example.com:25')).requireTLS).toBeUndefined();
  });
});
