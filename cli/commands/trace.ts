import { UsageError } from '../../engine/errors.ts';
import { findExecution, listExecutions, loadExecution } from '../../integrations/sqlite/trace-queries.ts';
import { htmlDestination, openStepLog, positiveInt, type Command } from '../command.ts';
import { printable, renderTrace, seconds } from '../render-trace.ts';
import { writeFileSync } from 'node:fs';
import { loadTraceDocuments } from '../html/load-docs.ts';
import { renderTraceHtml } from '../html/trace-page.ts';

export const traceListCommand: Command = {
  name: 'trace list',
  usage: 'callflow trace list [--db FILE] [--limit N]',
  summary: 'list recorded executions, newest first',
  help: `Lists executions in the step log, newest first: id, when (call time), caller → callee,
callflow, status and end reason, hangup cause and who hung up, duration.`,
  options: { db: { type: 'string' }, limit: { type: 'string' } },
  noPositionals: true,
  async run({ values }, io) {
    const db = openStepLog(values, io.env, { readonly: true });
    const rows = listExecutions(db, { limit: positiveInt('limit', values.limit, 20) });
    db.close();
    if (rows.length === 0) {
      io.out('no executions recorded');
      return 0;
    }
    for (const e of rows) {
      io.out(
        printable([
          e.id,
          new Date(e.started_at).toISOString().replace('.000Z', 'Z'),
          `${e.caller_number} → ${e.callee_number}`,
          e.callflow_id ?? '-',
          `${e.status}/${e.end_reason ?? '-'}`,
          e.hangup_cause ? `${e.hangup_cause} by ${e.hangup_by ?? '?'}` : '-',
          e.duration_ms === null ? '-' : seconds(e.duration_ms),
        ].join('  ')),
      );
    }
    return 0;
  },
};

export const traceShowCommand: Command = {
  name: 'trace show',
  usage: 'callflow trace show <execution-id> [--db FILE] [--json] [--html FILE [--account FILE] [--callflow FILE]]',
  summary: "print one execution's timeline",
  help: `Prints an execution as a timeline on the call's clock: each step (node path, module, outcome,
the branch taken and why, notes), the commands sent with their completion, the channel events
received and the post-hangup effects. The id may be shortened to a unique prefix or suffix (trace tail shows its last 8 characters).
--json prints the execution and all its rows as JSON.
--html FILE writes one self-contained HTML page instead (no network needed to open it): the
callflow tree with the path the call took highlighted, branched-into callflows under the node
that branched, and the timeline beside it; click a node for its data, steps and errors. The
step log does not hold the callflow documents, so the tree shows the visited nodes only, unless
--account FILE (the account bundle, all its callflows) or --callflow FILE is given: then the
whole tree is drawn and the nodes never visited are dimmed.`,
  options: {
    db: { type: 'string' },
    json: { type: 'boolean' },
    html: { type: 'string' },
    account: { type: 'string' },
    callflow: { type: 'string' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('trace show: give exactly one execution id');
    const html = htmlDestination(values.html);
    if (html !== undefined && values.json) throw new UsageError('trace show: give --html or --json, not both');
    if (html === undefined && (values.account !== undefined || values.callflow !== undefined)) {
      throw new UsageError('trace show: --account and --callflow are only used with --html');
    }
    const db = openStepLog(values, io.env, { readonly: true });
    const found = findExecution(db, positionals[0]!);
    if (!found.ok) {
      db.close();
      io.err(`trace show: ${found.problem}`);
      return 1;
    }
    const detail = loadExecution(db, found.execution);
    db.close();
    if (html !== undefined) {
      const account = typeof values.account === 'string' ? values.account : undefined;
      const callflow = typeof values.callflow === 'string' ? values.callflow : undefined;
      const loaded = account || callflow ? loadTraceDocuments({ account, callflow }) : { ok: true as const, docs: [], source: '' };
      if (!loaded.ok) {
        for (const e of loaded.errors) io.err(printable(String(e)));
        return 1;
      }
      const page = renderTraceHtml(detail, { docs: loaded.docs, docSource: loaded.source });
      writeFileSync(html, page);
      io.out(`wrote ${html} (${detail.steps.length} steps, ${Math.ceil(Buffer.byteLength(page) / 1024)} KB)`);
      return 0;
    }
    io.out(values.json ? JSON.stringify(detail, null, 2) : renderTrace(detail));
    return 0;
  },
};
