import { SchemaValidator } from '../../engine/documents/validator.ts';
import { UsageError } from '../../engine/errors.ts';
import { createRegistry } from '../../modules/index.ts';
import { runBatch } from '../../integrations/simulator/run-batch.ts';
import { openDatabase } from '../../integrations/sqlite/open-database.ts';
import { WalWriteback } from '../../integrations/sqlite/wal-writeback.ts';
import { SqliteTraceSink } from '../../integrations/sqlite/sqlite-trace-sink.ts';
import { SqliteVoicemailStore } from '../../integrations/sqlite/voicemail-store.ts';
import { findExecution, loadExecution } from '../../integrations/sqlite/trace-queries.ts';
import { dbPath, mediaDirs, positiveInt, stepLogWriteFailure, type Command } from '../command.ts';
import { describeSettings, notificationSettings } from '../../integrations/notify/config.ts';
import { startOutboxWorker } from '../../integrations/notify/worker-client.ts';
import { renderTrace, summaryLine } from '../render-trace.ts';
import { createProgress } from '../progress.ts';
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
for the next run or "callflow notifications deliver".

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
    const db = openDatabase(dbFile);
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
    // running ones finish, and every finished execution is written before the exit. A second
    // signal kills at once, as usual.
    let interrupted: NodeJS.Signals | undefined;
    const stop = (signal: NodeJS.Signals): void => {
      interrupted = signal;
      progress.err(`${signal}: finishing the calls running and recording them (again to quit at once)`);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await runBatch(positionals, { registry, validator: new SchemaValidator() }, { registry, sink, outbox: notifications.outbox, voicemail, recordingDir: media.recordings }, {
        concurrency,
        stopped: () => interrupted !== undefined,
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
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      sink.finish();
      progress.done();
    }
    failed += sink.writeFailures;
    if (interrupted) {
      io.err(`simulate: interrupted (${interrupted}) after ${finished} of ${positionals.length} scenarios; messages not yet delivered stay in the outbox`);
      await notifications.worker.close();
      await writeback.close();
      db.close();
      return interrupted === 'SIGINT' ? 130 : 143;
    }
    const delivery = await notifications.worker.drain(deliverTimeout * 1000);
    await notifications.worker.close();
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
    return failed > 0 ? 1 : 0;
  },
};
