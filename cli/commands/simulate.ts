import { SchemaValidator } from '../../engine/documents/validator.ts';
import { UsageError } from '../../engine/errors.ts';
import { createRegistry } from '../../modules/index.ts';
import { runBatch } from '../../integrations/simulator/run-batch.ts';
import { WalWriteback } from '../../integrations/sqlite/wal-writeback.ts';
import { SqliteTraceSink } from '../../integrations/sqlite/sqlite-trace-sink.ts';
import { SqliteVoicemailStore } from '../../integrations/sqlite/voicemail-store.ts';
import { findExecution, loadExecution } from '../../integrations/sqlite/trace-queries.ts';
import { dbPath, mediaDirs, positiveInt, stepLogWriteFailure, type Command } from '../command.ts';
import { describeSettings, notificationSettings } from '../../integrations/notify/config.ts';
import { startOutboxWorker } from '../../integrations/notify/worker-client.ts';
import { renderTrace, summaryLine } from '../render-trace.ts';
import { createProgress } from '../progress.ts';
import { catchInterrupt, deliverUntil, interruptedExitCode } from '../interrupt.ts';
import { openStepLogToWrite } from '../writable-step-log.ts';
import { printable } from '../../engine/text.ts';

export const simulateCommand: Command = {
  name: 'simulate',
  usage: 'callflow simulate <scenario...> [--db FILE] [--json] [--concurrency N] [--deliver-timeout S]',
  summary: 'run scenarios on the simulated switch and record them in the step log',
  help: `Runs each scenario file on virtual time and writes its execution to the step log
(--db, else $CALLFLOW_DB, else ./callflow.db). One scenario: prints its timeline. Several:
one line each (execution id, scenario, status/end reason, hangup cause and who hung up, duration).
--json prints the recorded executions (with steps, events, commands, effects) as JSON instead.
A scenario that does not load is reported on stderr and the others still run; exit code 1 then.

Notifications go through the durable outbox in the same database: to an SMTP server and
Twilio when configured (CALLFLOW_SMTP_URL, TWILIO_*), otherwise as files under ./outbox
(CALLFLOW_OUTBOX_DIR). Pending messages from earlier runs are resumed. After the calls,
delivery is awaited up to --deliver-timeout seconds (default 10); what is left stays pending
for the next run or "callflow notifications deliver". Ctrl-C (or SIGTERM) stops the batch after
the calls running, or stops the wait for deliveries (the sends in flight are still recorded),
and exits 130 (143).

Recordings are written beside the database (recordings/), and voicemail messages kept from
them under voicemail/<account>/<box>/ (see "callflow voicemail list").`,
  options: {
    db: { type: 'string' },
    json: { type: 'boolean' },
    concurrency: { type: 'string' },
    'deliver-timeout': { type: 'string' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length === 0) throw new UsageError('simulate: give at least one scenario file');
    const concurrency = positiveInt('concurrency', values.concurrency, 16);
    const deliverTimeout = positiveInt('deliver-timeout', values['deliver-timeout'], 10);
    const registry = createRegistry();
    const settings = notificationSettings(io.env);
    const dbFile = dbPath(values, io.env);
    const db = openStepLogToWrite(dbFile);
    const writeback = WalWriteback.start(db);
    // Batches of 20 or more show progress (a bar on a terminal, plain lines otherwise).
    const progress = createProgress(io, { label: 'simulating', total: positionals.length, minTotal: 20 });
    // Reported and counted: an execution the step log could not take is a failed run.
    const sink = new SqliteTraceSink(db, {
      groupCommit: positionals.length > 1 ? 100 : 1,
      onWriteError: (id, outcome, problem) => progress.err(stepLogWriteFailure(id, outcome, problem)),
    });
    const media = mediaDirs(dbFile);
    const voicemail = new SqliteVoicemailStore(db, media.voicemail);
    const logger = { info: (l: string) => io.err(l), warn: (l: string) => io.err(l) };
    // Delivery runs on its own thread, so SMTP and Twilio round trips never wait behind calls.
    const notifications = await startOutboxWorker(db, { dbFile, notifications: settings }, logger);
    const ids: string[] = [];
    let failed = 0;
    let finished = 0;
    // Ctrl-C (or a SIGTERM) stops the batch, not the process: no new scenario starts, the
    // running ones finish, and every finished execution is written before the exit. During the
    // wait for deliveries it stops the wait, and the sends in flight are still recorded. A second
    // signal kills at once, as usual.
    let onSignal = (signal: NodeJS.Signals): void => progress.err(`${signal}: finishing the calls running and recording them (again to quit at once)`);
    const interrupt = catchInterrupt((signal) => onSignal(signal));
    try {
      await runBatch(positionals, { registry, validator: new SchemaValidator() }, { registry, sink, outbox: notifications.outbox, voicemail, recordingDir: media.recordings }, {
        concurrency,
        stopped: () => interrupt.signal !== undefined,
        onResult: (item) => {
          finished++;
          progress.tick();
          // Messages quote values from the documents: printed inert.
          for (const w of item.warnings) progress.err(`warning: ${printable(w.toString())}`);
          if (!item.ok) {
            failed++;
            for (const e of item.errors) progress.err(printable(e.message));
            return;
          }
          if (item.summary.status !== 'completed') failed++;
          ids.push(item.summary.id);
        },
      });
    } catch (err) {
      interrupt.release();
      throw err;
    } finally {
      sink.finish();
      progress.done();
    }
    failed += sink.writeFailures;
    if (interrupt.signal) {
      io.err(`simulate: interrupted (${interrupt.signal}) after ${finished} of ${positionals.length} scenarios; messages not yet delivered stay in the outbox`);
      await notifications.worker.close();
      await writeback.close();
      db.close();
      return interruptedExitCode(interrupt.signal);
    }
    onSignal = (signal) => io.err(`${signal}: no longer waiting for deliveries; recording the sends in flight (again to quit at once)`);
    const delivery = await deliverUntil(notifications.worker, deliverTimeout * 1000, interrupt.caught).finally(() => interrupt.release());
    // Every call ran and is recorded: the results are printed, and the exit code says the wait was cut short.
    if (interrupt.signal) io.err(`simulate: interrupted (${interrupt.signal}) while waiting for deliveries`);
    if (delivery.pending > 0 || delivery.failed > 0) {
      const where = describeSettings(settings);
      io.err(
        `notifications: ${delivery.pending} pending, ${delivery.failed} failed in the outbox ` +
          `(see "callflow notifications list"; email via ${where.email}, sms via ${where.sms})`,
      );
    }
    const execution = (id: string) => {
      const found = findExecution(db, id);
      if (!found.ok) throw new Error(found.problem);
      return found.execution;
    };
    // Only --json and a single scenario print all of an execution's rows; a batch prints one
    // line each and reads one row each.
    if (values.json) io.out(JSON.stringify(ids.map((id) => loadExecution(db, execution(id))), null, 2));
    else if (positionals.length === 1 && ids[0]) io.out(renderTrace(loadExecution(db, execution(ids[0]))));
    else for (const id of ids) io.out(summaryLine(execution(id)));
    await writeback.close();
    db.close();
    if (interrupt.signal) return interruptedExitCode(interrupt.signal);
    return failed > 0 ? 1 : 0;
  },
};
