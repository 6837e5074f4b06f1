import { buildTransports, notificationSettings } from '../../integrations/notify/config.ts';
import { startNotifications } from '../../integrations/notify/runtime.ts';
import type { OutboxRow, OutboxStatus } from '../../integrations/sqlite/outbox-store.ts';
import { OutboxStore } from '../../integrations/sqlite/outbox-store.ts';
import type { DrainResult } from '../../integrations/notify/dispatcher.ts';
import { messageIdArg, oneOf, openStepLog, positiveInt, type Command, type Io } from '../command.ts';
import { catchInterrupt, deliverUntil, interruptedExitCode } from '../interrupt.ts';
import { printable } from '../render-trace.ts';

const STATUSES: readonly OutboxStatus[] = ['pending', 'sending', 'sent', 'failed'];

export function outboxLine(r: OutboxRow): string {
  return [
    `#${r.id}`,
    r.status,
    r.medium,
    printable(r.recipient),
    `template ${printable(r.template_id)}`,
    `${r.attempts} attempt(s)`,
    r.last_error ? `last error ${r.error_code ?? ''} ${printable(r.last_error)}`.replace('  ', ' ') : '',
    `execution ${r.execution_id}`,
  ]
    .filter((x) => x.length > 0)
    .join('  ');
}

/**
 * Delivers what is pending, waiting up to `timeoutS`; `allDue`: messages waiting for their next
 * retry too. A signal stops the wait, not the sends in flight: they finish and are recorded
 * (ended mid-send, a message would go out again on the next run); `interrupted` then names it.
 */
async function deliverNow(
  command: string,
  values: Record<string, unknown>,
  io: Io,
  timeoutS: number,
  opts: { allDue?: boolean } = {},
): Promise<DrainResult & { interrupted: NodeJS.Signals | undefined }> {
  const db = openStepLog(values, io.env);
  const interrupt = catchInterrupt((signal) => io.err(`${command}: ${signal}: no longer waiting; recording the sends in flight (again to quit at once)`));
  try {
    if (opts.allDue) new OutboxStore(db, Date).dueNow();
    const n = startNotifications(db, await buildTransports(notificationSettings(io.env)), { logger: { info: io.err, warn: io.err } });
    const r = await deliverUntil(n.dispatcher, timeoutS * 1000, interrupt.caught);
    return { ...r, interrupted: interrupt.signal };
  } finally {
    interrupt.release();
    db.close();
  }
}

export const notificationsListCommand: Command = {
  name: 'notifications list',
  usage: 'callflow notifications list [--status pending|sending|sent|failed] [--db FILE] [--limit N]',
  summary: 'messages in the outbox, newest first',
  help: 'Lists outbox messages: id, status, medium, recipient, template, attempts, last error, execution.',
  options: { status: { type: 'string' }, db: { type: 'string' }, limit: { type: 'string' } },
  noPositionals: true,
  async run({ values }, io) {
    const status = oneOf('notifications list', 'status', values.status, STATUSES);
    const db = openStepLog(values, io.env);
    const rows = new OutboxStore(db, Date).list({ ...(status ? { status } : {}), limit: positiveInt('limit', values.limit, 50) });
    db.close();
    if (rows.length === 0) io.out('no messages');
    for (const r of rows) io.out(outboxLine(r));
    return 0;
  },
};

export const notificationsRetryCommand: Command = {
  name: 'notifications retry',
  usage: 'callflow notifications retry <id> [--db FILE] [--timeout S]',
  summary: 'send a failed message again, now',
  help:
    'Puts a failed outbox message back to pending and delivers it (waiting up to --timeout seconds, default 10).\n' +
    'A pending message waiting for its next retry is tried now.',
  options: { db: { type: 'string' }, timeout: { type: 'string' } },
  async run({ values, positionals }, io) {
    const id = messageIdArg('notifications retry', positionals);
    const db = openStepLog(values, io.env);
    const store = new OutboxStore(db, Date);
    const row = store.get(id);
    if (!row) {
      db.close();
      io.err(`notifications retry: no message #${id}`);
      return 1;
    }
    // A pending message is due now too: whoever asks for it has a reason not to wait its retry out.
    if (!store.retry(id) && store.dueNow(id) === 0) {
      db.close();
      io.err(`notifications retry: message #${id} is ${row.status}, not failed`);
      return 1;
    }
    db.close();
    const r = await deliverNow('notifications retry', values, io, positiveInt('timeout', values.timeout, 10));
    const check = openStepLog(values, io.env, { readonly: true });
    const after = new OutboxStore(check, Date).get(id)!;
    check.close();
    io.out(outboxLine(after));
    if (r.interrupted) return interruptedExitCode(r.interrupted);
    return after.status === 'sent' ? 0 : 1;
  },
};

export const notificationsDeliverCommand: Command = {
  name: 'notifications deliver',
  usage: 'callflow notifications deliver [--db FILE] [--timeout S]',
  summary: 'deliver pending messages (after a restart, or once a server is back)',
  help:
    'Resumes the outbox: messages a stopped process left pending or sending are delivered, waiting up to --timeout seconds (default 10).\n' +
    'Messages waiting for their next retry are tried now.',
  options: { db: { type: 'string' }, timeout: { type: 'string' } },
  noPositionals: true,
  async run({ values }, io) {
    // Asked for because a server is back: a message waiting out its retry goes now.
    const r = await deliverNow('notifications deliver', values, io, positiveInt('timeout', values.timeout, 10), { allDue: true });
    io.out(`outbox: ${r.sent} sent, ${r.pending} pending, ${r.failed} failed`);
    if (r.interrupted) return interruptedExitCode(r.interrupted);
    return r.pending > 0 ? 1 : 0;
  },
};
