import { UsageError } from '../../engine/errors.ts';
import { openDatabase } from '../../integrations/sqlite/open-database.ts';
import { findExecution, listExecutions, loadExecution } from '../../integrations/sqlite/trace-queries.ts';
import { dbPath, positiveInt, type Command } from '../command.ts';
import { printable, renderTrace, seconds } from '../render-trace.ts';
import { existsSync } from 'node:fs';

function openReadOnly(file: string) {
  if (!existsSync(file)) throw new UsageError(`no step log at ${file} (run "callflow simulate" first, or give --db)`);
  return openDatabase(file, { readonly: true });
}

export const traceListCommand: Command = {
  name: 'trace list',
  usage: 'callflow trace list [--db FILE] [--limit N]',
  summary: 'list recorded executions, newest first',
  help: `Lists executions in the step log, newest first: id, when (call time), caller → callee,
callflow, status and end reason, hangup cause and who hung up, duration.`,
  options: { db: { type: 'string' }, limit: { type: 'string' } },
  async run({ values }, io) {
    const db = openReadOnly(dbPath(values, io.env));
    const rows = listExecutions(db, { limit: positiveInt('limit', values.limit, 20) });
    db.close();
    if (rows.length === 0) {
      io.out('no executions recorded');
      return 0;
    }
    for (const e of rows) {
      io.out(
        [
          e.id,
          new Date(e.started_at).toISOString().replace('.000Z', 'Z'),
          `${printable(e.caller_number)} → ${printable(e.callee_number)}`,
          printable(e.callflow_id ?? '-'),
          `${e.status}/${e.end_reason ?? '-'}`,
          e.hangup_cause ? `${e.hangup_cause} by ${e.hangup_by ?? '?'}` : '-',
          e.duration_ms === null ? '-' : seconds(e.duration_ms),
        ].join('  '),
      );
    }
    return 0;
  },
};

export const traceShowCommand: Command = {
  name: 'trace show',
  usage: 'callflow trace show <execution-id> [--db FILE] [--json]',
  summary: "print one execution's timeline",
  help: `Prints an execution as a timeline on the call's clock: each step (node path, module, outcome,
the branch taken and why, notes), the commands sent with their completion, the channel events
received and the post-hangup effects. The id may be shortened to a unique prefix.
--json prints the execution and all its rows as JSON.`,
  options: { db: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('trace show: give exactly one execution id');
    const db = openReadOnly(dbPath(values, io.env));
    const found = findExecution(db, positionals[0]!);
    if (!found.ok) {
      db.close();
      io.err(`trace show: ${found.problem}`);
      return 1;
    }
    const detail = loadExecution(db, found.execution);
    db.close();
    io.out(values.json ? JSON.stringify(detail, null, 2) : renderTrace(detail));
    return 0;
  },
};
