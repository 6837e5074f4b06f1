// A signal while a command waits for its deliveries must not end it mid-send (the message would be
// left 'sending' and sent again after a restart), and an operator's `notifications deliver` /
// `retry` does not wait for a message's next retry.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import { cliAsync } from './support/cli.ts';
import { account, callflow, tempDir } from './support/sim.ts';
import { missedCallScenarioIn as scenarioIn } from './support/notify.ts';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A step log holding one email message, pending and due now. */
function outboxWithOneMessage(db: string): OutboxStore {
  const store = new OutboxStore(openDatabase(db), Date);
  store.enqueue('exec-1', 0, [
    {
      idempotencyKey: 'k1', medium: 'email', recipient: 'ops@test.local', templateId: 'missed', nodeKey: 'n',
      email: { from: 'pbx@test.local', to: ['ops@test.local'], cc: [], subject: 'Missed call', text: 'hello' },
    } as never,
  ]);
  return store;
}

/**
 * A real SMTP server (smtp-server) that, like any MTA, has the message once the client's final
 * "." arrives, but answers 250 only `replyDelayMs` later.
 */
async function slowSmtp(replyDelayMs: number) {
  const received: string[] = [];
  let dataEnded = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        dataEnded++;
        void simpleParser(Buffer.concat(chunks)).then((m) => received.push(m.messageId ?? ''));
        setTimeout(() => cb(), replyDelayMs);
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port;
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `smtp://127.0.0.1:${port}`, received, dataEnded: () => dataEnded };
}

const until = async (what: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** The CLI in a child process, its stderr collected, killed at the end of the test if still running. */
function spawnCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['bin/callflow.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c: Buffer) => (output.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output.stderr += c.toString()));
  cleanup.push(() => void child.kill('SIGKILL'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, output, exited };
}

describe('a signal while deliveries are awaited', () => {
  it('Ctrl-C while simulate waits for deliveries lets the send in flight finish and be recorded (no second copy after restart)', async () => {
    const smtp = await slowSmtp(2000);
    const dir = tempDir();
    const scenario = scenarioIn(dir);
    const db = join(dir, 'log.db');
    const env = { CALLFLOW_SMTP_URL: smtp.url, CALLFLOW_DB: db };
    const { child, exited } = spawnCli(['simulate', scenario], env);
    // The whole message is at the server; its 250 is 2 s away. The user presses Ctrl-C.
    await until(() => smtp.dataEnded() === 1);
    child.kill('SIGINT');
    const end = await exited;
    const row = new OutboxStore(openDatabase(db), Date).list({ limit: 5 })[0]!;
    // The next run resumes the outbox.
    const again = await cliAsync(['notifications', 'deliver'], env);
    await new Promise((r) => setTimeout(r, 2500));
    expect({ end, statusAfterCtrlC: row.status, copiesAtServer: smtp.received.length, deliver: again.stdout.trim() }).toEqual({
      end: { code: 130, signal: null },
      statusAfterCtrlC: 'sent',
      copiesAtServer: 1,
      deliver: 'outbox: 1 sent, 0 pending, 0 failed',
    });
  }, 60_000);

  it('a second SIGTERM while serve waits for its last deliveries does not kill it mid-send (no second copy after restart)', async () => {
    const smtp = await slowSmtp(3000);
    const dir = tempDir();
    const db = join(dir, 'live.db');
    outboxWithOneMessage(db);
    const env = { CALLFLOW_SMTP_URL: smtp.url };
    const { child, output, exited } = spawnCli(
      ['serve', '--account', 'callflows/example/account.json', '--listen', '127.0.0.1:0', '--no-inbound', '--db', db],
      env,
    );
    await until(() => smtp.dataEnded() === 1);
    child.kill('SIGTERM');
    await until(() => output.stderr.includes('serve: SIGTERM: taking no new calls'));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM'); // the supervisor's follow-up, or an impatient second Ctrl-C
    const end = await exited;
    const status = new OutboxStore(openDatabase(db), Date).get(1)!.status;
    const again = await cliAsync(['notifications', 'deliver', '--db', db], env);
    await new Promise((r) => setTimeout(r, 3500));
    // README: a second signal ... and serve exits 1.
    expect({ end, statusAtExit: status, deliver: again.stdout.trim(), copiesAtServer: smtp.received.length }).toEqual({
      end: { code: 1, signal: null },
      statusAtExit: 'sent',
      deliver: 'outbox: 1 sent, 0 pending, 0 failed',
      copiesAtServer: 1,
    });
  }, 60_000);

  it('Ctrl-C during `notifications deliver` lets the send in flight finish and be recorded, and exits 130', async () => {
    const smtp = await slowSmtp(2000);
    const db = join(tempDir(), 'log.db');
    outboxWithOneMessage(db);
    const env = { CALLFLOW_SMTP_URL: smtp.url };
    const { child, output, exited } = spawnCli(['notifications', 'deliver', '--db', db], env);
    await until(() => smtp.dataEnded() === 1);
    child.kill('SIGINT');
    const end = await exited;
    const status = new OutboxStore(openDatabase(db), Date).get(1)!.status;
    const again = await cliAsync(['notifications', 'deliver', '--db', db], env);
    await new Promise((r) => setTimeout(r, 2500));
    expect({ end, statusAtExit: status, out: output.stdout.trim(), again: again.stdout.trim(), copiesAtServer: smtp.received.length }).toEqual({
      end: { code: 130, signal: null },
      statusAtExit: 'sent',
      out: 'outbox: 1 sent, 0 pending, 0 failed',
      again: 'outbox: 1 sent, 0 pending, 0 failed',
      copiesAtServer: 1,
    });
  }, 60_000);
});

describe('an operator asks for delivery now', () => {
  /** The state the dispatcher leaves after a refused attempt: pending, next retry in 2 minutes. */
  function waitingForRetry(db: string): void {
    const store = outboxWithOneMessage(db);
    const row = store.claimDue(1, 'gone:1:x', 600_000)[0]!;
    store.recordAttempt(row, Date.now(), { outcome: 'temporary_failure', code: 'ESOCKET', detail: 'connect ECONNREFUSED', retryAt: Date.now() + 120_000 });
  }

  it('`notifications deliver` once the SMTP server is back delivers a message that is waiting for its next retry', async () => {
    const db = join(tempDir(), 'log.db');
    waitingForRetry(db);
    // The server is back; the operator does what the README says.
    const smtp = await slowSmtp(0);
    const r = await cliAsync(['notifications', 'deliver', '--db', db, '--timeout', '5'], { CALLFLOW_SMTP_URL: smtp.url });
    // README: "deliver whatever is pending (after a crash, or once a server is back)".
    expect({ out: r.stdout.trim(), status: r.status, received: smtp.received.length }).toEqual({
      out: 'outbox: 1 sent, 0 pending, 0 failed',
      status: 0,
      received: 1,
    });
  });

  it('`notifications retry <id>` on a message waiting for its next retry sends it now', async () => {
    const db = join(tempDir(), 'log.db');
    waitingForRetry(db);
    const smtp = await slowSmtp(0);
    const r = await cliAsync(['notifications', 'retry', '1', '--db', db, '--timeout', '5'], { CALLFLOW_SMTP_URL: smtp.url });
    expect({ line: r.stdout.trim().split('  ').slice(0, 2), status: r.status, received: smtp.received.length }).toEqual({
      line: ['#1', 'sent'],
      status: 0,
      received: 1,
    });
  });
});
