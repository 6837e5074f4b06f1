import { writeFileSync } from 'node:fs';
import { esc } from '../html/escape.ts';
import { loadCallflowFile } from '../../engine/documents/load.ts';
import { SchemaValidator } from '../../engine/documents/validator.ts';
import { UsageError } from '../../engine/errors.ts';
import { createRegistry } from '../../modules/index.ts';
import {
  coverageFromStepLog,
  formatPercent,
  reachesMin,
  scenariosForCallflow,
  type CoverageReport,
  type EdgeCoverage,
  type NodeCoverage,
} from '../../integrations/simulator/coverage.ts';
import { runBatch } from '../../integrations/simulator/run-batch.ts';
import { SqliteTraceSink } from '../../integrations/sqlite/sqlite-trace-sink.ts';
import { SqliteVoicemailStore } from '../../integrations/sqlite/voicemail-store.ts';
import { dbPath, htmlDestination, mediaDirs, stepLogWriteFailure, type Command } from '../command.ts';
import { createProgress } from '../progress.ts';
import { openStepLogToWrite } from '../writable-step-log.ts';
import { printable } from '../render-trace.ts';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function countsText(n: NodeCoverage): string {
  if (!n.reached) return 'not reached';
  const outcomes = Object.entries(n.outcomes)
    .map(([o, c]) => `${printable(o)} ${c}`)
    .join(', ');
  const runs = plural(n.executions, 'execution') + (n.visits !== n.executions ? `, ${plural(n.visits, 'visit')}` : '');
  return `${runs}  (${outcomes})`;
}

function edgeText(e: EdgeCoverage): string {
  const returns = e.returns > 0 ? `, ${plural(e.returns, 'return')} from the branch` : '';
  return `"${printable(e.key)}"${e.to === null ? ' → {} (stops)' : ''}  taken ${e.taken}${returns}`;
}

/** The tree with its counts, one line per node and per edge; then the unreached list and the percentage. */
export function renderCoverageText(r: CoverageReport): string[] {
  const lines = [
    `coverage of callflow "${printable(r.callflowId)}" (${printable(r.file)}, revision ${r.revision}) by ${plural(r.executions, 'execution')}`,
    '',
  ];
  const byPath = new Map(r.nodes.map((n) => [n.path, n]));
  const walk = (n: NodeCoverage, indent: string): void => {
    lines.push(`${indent}${printable(n.path)}  ${printable(n.module)}  ${countsText(n)}${n.reached ? '' : '  UNREACHED'}`);
    for (const e of n.edges) {
      lines.push(`${indent}  ${edgeText(e)}${e.to !== null && !e.reached ? '  UNREACHED' : ''}`);
      if (e.to !== null) walk(byPath.get(e.to)!, `${indent}    `);
    }
  };
  walk(r.nodes[0]!, '');
  lines.push('');
  if (r.unreached.length === 0) lines.push('unreached: none');
  else {
    lines.push(`unreached (${r.unreached.length}):`);
    for (const u of r.unreached) {
      lines.push(
        u.kind === 'node'
          ? `  node ${printable(u.path)} (${printable(u.module)})`
          : `  edge ${printable(u.from)} "${printable(u.key)}" → ${printable(u.to)}`,
      );
    }
  }
  lines.push(`coverage: ${formatPercent(r.percent)} (${r.covered} of ${r.total} nodes and edges)`);
  return lines;
}

/** The HTML trace page's escaping: text and attribute values, control characters masked. */
const escapeHtml = esc;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1d2330; background: #fafbfc; }
h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin-top: 2em; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.summary { margin: 0 0 1.5em; } .pct { font-size: 1.3em; font-weight: 600; }
.meter { display: inline-block; width: 12em; height: .7em; background: #f3c9c9; border-radius: 4px; vertical-align: middle; overflow: hidden; }
.meter span { display: block; height: 100%; background: #3c9a5f; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding: 0 0 0 1.6em; }
ul.tree { padding-left: 0; }
ul.tree li { position: relative; padding: .25em 0 .25em 1.2em; }
ul.tree ul > li::before { content: ""; position: absolute; left: 0; top: 0; bottom: 0; border-left: 1px solid #9aa3b2; }
ul.tree ul > li:last-child::before { bottom: auto; height: 1.15em; }
ul.tree ul > li::after { content: ""; position: absolute; left: 0; top: 1.15em; width: 1em; border-top: 1px solid #9aa3b2; }
.box { display: inline-block; border: 1px solid #3c9a5f; background: #eef8f1; border-radius: 6px; padding: .2em .6em; }
.box .module { font-weight: 600; margin-right: .5em; }
.box .count, .edge .count { margin-left: .6em; }
.box .outcomes { margin-left: .6em; color: #4a5568; }
.edge > .label { display: inline-block; border: 1px dashed #3c9a5f; border-radius: 10px; padding: 0 .6em; background: #fff; }
.edge > .label .key { font-weight: 600; }
.empty { color: #4a5568; margin-left: .4em; }
.unreached > .box, .edge.unreached > .label { border-color: #c53030; background: #fdecec; border-style: solid; }
.mark { margin-left: .6em; color: #c53030; font-weight: 600; text-transform: uppercase; font-size: .8em; }
ul.list li { margin: .15em 0; }
`;

function nodeHtml(n: NodeCoverage, byPath: ReadonlyMap<string, NodeCoverage>): string {
  const outcomes = Object.entries(n.outcomes)
    .map(([o, c]) => `${escapeHtml(o)} ${escapeHtml(c)}`)
    .join(', ');
  const counts = n.reached
    ? `<span class="count">${escapeHtml(plural(n.executions, 'execution'))}${
        n.visits !== n.executions ? ` · ${escapeHtml(plural(n.visits, 'visit'))}` : ''
      }</span><span class="outcomes">${outcomes}</span>`
    : '<span class="count">0 executions</span><span class="mark">unreached</span>';
  const edges = n.edges.map((e) => edgeHtml(e, byPath)).join('');
  return (
    `<li class="node ${n.reached ? 'reached' : 'unreached'}" data-path="${escapeHtml(n.path)}" data-executions="${escapeHtml(n.executions)}" data-visits="${escapeHtml(n.visits)}">` +
    `<div class="box"><span class="module">${escapeHtml(n.module)}</span><code class="path">${escapeHtml(n.path)}</code>${counts}</div>` +
    (edges ? `<ul>${edges}</ul>` : '') +
    '</li>'
  );
}

function edgeHtml(e: EdgeCoverage, byPath: ReadonlyMap<string, NodeCoverage>): string {
  const state = e.to === null ? 'to-empty' : e.reached ? 'reached' : 'unreached';
  const returns = e.returns > 0 ? ` · ${escapeHtml(plural(e.returns, 'return'))} from the branch` : '';
  const label =
    `<span class="label"><span class="key">${escapeHtml(e.key)}</span><span class="count">taken ${escapeHtml(e.taken)}${returns}</span>` +
    `${state === 'unreached' ? '<span class="mark">unreached</span>' : ''}</span>`;
  const target = e.to === null ? '<span class="empty">→ {} (stops)</span>' : `<ul>${nodeHtml(byPath.get(e.to)!, byPath)}</ul>`;
  return `<li class="edge ${state}" data-from="${escapeHtml(e.from)}" data-key="${escapeHtml(e.key)}" data-taken="${escapeHtml(e.taken)}">${label}${target}</li>`;
}

/** One self-contained page (inline style, no script, nothing fetched) drawing the tree with its counts. */
export function renderCoverageHtml(r: CoverageReport, scenarios: readonly string[]): string {
  const byPath = new Map(r.nodes.map((n) => [n.path, n]));
  const pct = formatPercent(r.percent);
  const unreached =
    r.unreached.length === 0
      ? '<p>Every node and edge was reached.</p>'
      : `<ul class="list">${r.unreached
          .map((u) =>
            u.kind === 'node'
              ? `<li>node <code>${escapeHtml(u.path)}</code> (${escapeHtml(u.module)})</li>`
              : `<li>edge <code>${escapeHtml(u.from)}</code> <strong>${escapeHtml(u.key)}</strong> → <code>${escapeHtml(u.to)}</code></li>`,
          )
          .join('')}</ul>`;
  const strays =
    r.strays.length === 0
      ? ''
      : `<h2>Steps at paths this document does not have</h2><ul class="list">${r.strays
          .map((s) => `<li><code>${escapeHtml(s.path)}</code>: ${escapeHtml(plural(s.visits, 'visit'))}</li>`)
          .join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coverage of ${escapeHtml(r.callflowId)}: ${escapeHtml(pct)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Coverage of callflow <code>${escapeHtml(r.callflowId)}</code></h1>
<p class="summary"><span class="pct">${escapeHtml(pct)}</span> <span class="meter" title="${escapeHtml(pct)}"><span style="width:${escapeHtml(r.percent.toFixed(2))}%"></span></span>
${escapeHtml(r.covered)} of ${escapeHtml(r.total)} nodes and edges reached by ${escapeHtml(plural(r.executions, 'execution'))}.
<br><code>${escapeHtml(r.file)}</code>, revision <code>${escapeHtml(r.revision)}</code>. Edges to <code>{}</code> are shown but not counted.</p>
<ul class="tree">${nodeHtml(r.nodes[0]!, byPath)}</ul>
<h2>Unreached (${escapeHtml(r.unreached.length)})</h2>
${unreached}
${strays}
<h2>Scenarios (${escapeHtml(scenarios.length)})</h2>
<ul class="list">${scenarios.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>
</body>
</html>
`;
}

function parseMin(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) {
    throw new UsageError(`--min must be a percentage from 0 to 100 (got "${String(v)}")`);
  }
  return n;
}

export const coverageCommand: Command = {
  name: 'coverage',
  usage: 'callflow coverage <callflow-file> <scenario...> [--min N] [--html FILE] [--db FILE]',
  summary: "run scenarios and report which of a callflow's nodes and branches they reached",
  help: `Runs the scenarios on the simulated switch (recorded in the step log like "callflow simulate":
--db, else $CALLFLOW_DB, else ./callflow.db) and reports, for each node of the callflow document
(named by JSON pointer: /flow, /flow/children/<key>, ...), how many executions ran it and with
what outcomes, and for each child key (edge) how often it was taken. Only steps of this callflow
count (steps.callflow_id = its id): the flows it branches into are not part of its tree. A
"callflow" node's "_" child runs on return from the branch; that counts as the edge reached.

Every scenario must exercise this callflow, through its "callflow" field or the account routing
its call.to to the same document (same revision); one that does not, or does not load, is
reported on stderr and left out.

Then it lists what no scenario reached (edges to a node, and nodes) and prints
  coverage: P% (covered of total nodes and edges)
where edges to {} (which stop the callflow) are shown but not counted. P is rounded down.

Notifications are not sent: sends are recorded as not sent (no outbox).

  --min N     exit 1, with one line on stderr, when coverage is below N percent (0-100)
  --html FILE also write the tree with its counts as one self-contained HTML page

Exit code: 0; 1 when coverage is below --min, a scenario could not run or an execution did not
complete; 2 for a usage error. Progress goes to stderr.`,
  options: {
    db: { type: 'string' },
    min: { type: 'string' },
    html: { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const [callflowFile, ...scenarioFiles] = positionals;
    if (!callflowFile || scenarioFiles.length === 0) {
      throw new UsageError('coverage: give a callflow file and at least one scenario file');
    }
    const min = parseMin(values.min);
    const html = htmlDestination(values.html);
    const registry = createRegistry();
    const ctx = { registry, validator: new SchemaValidator() };
    const shown = new Set<string>();
    const warn = (line: string): void => {
      if (shown.has(line)) return;
      shown.add(line);
      io.err(line);
    };

    const cf = loadCallflowFile(callflowFile, ctx);
    for (const w of cf.warnings) warn(`warning: ${printable(w.toString())}`);
    if (!cf.ok) {
      for (const e of cf.errors) io.err(printable(e.message));
      return 1;
    }
    const callflow = cf.value;
    const checked = scenariosForCallflow(callflow, scenarioFiles, ctx);
    for (const w of checked.warnings) warn(`warning: ${printable(w.toString())}`);
    for (const p of checked.problems) io.err(printable(p.message));
    let failed = checked.problems.length > 0;
    if (checked.runnable.length === 0) {
      io.err(`coverage: no scenario exercises callflow "${printable(callflow.doc.id)}"`);
      return 1;
    }

    const dbFile = dbPath(values, io.env);
    const db = openStepLogToWrite(dbFile);
    const ids: string[] = [];
    try {
      const sink = new SqliteTraceSink(db, {
        groupCommit: checked.runnable.length > 1 ? 100 : 1,
        onWriteError: (id, outcome, problem) => {
          failed = true;
          io.err(stepLogWriteFailure(id, outcome, problem));
        },
      });
      const progress = createProgress(io, { label: 'simulating', total: checked.runnable.length });
      try {
        // As simulate runs them (a voicemail store, recordings beside the step log), so each call
        // takes the path it would take there; one at a time, in file order, so scenarios that
        // leave and then check messages see each other's, whatever their number.
        const media = mediaDirs(dbFile);
        const voicemail = new SqliteVoicemailStore(db, media.voicemail);
        await runBatch(checked.runnable, ctx, { registry, sink, voicemail, recordingDir: media.recordings }, {
          concurrency: 1,
          onResult: (item) => {
            for (const w of item.warnings) {
              const line = `warning: ${printable(w.toString())}`;
              if (!shown.has(line)) {
                shown.add(line);
                progress.err(line);
              }
            }
            if (!item.ok) {
              failed = true;
              for (const e of item.errors) progress.err(printable(e.message));
            } else {
              ids.push(item.summary.id);
              if (item.summary.status !== 'completed') {
                failed = true;
                progress.err(
                  `${printable(item.file)}: execution ${item.summary.id} ${item.summary.status} (${item.summary.endReason})` +
                    (item.summary.error ? `: ${printable(item.summary.error)}` : ''),
                );
              }
            }
            progress.tick();
          },
        });
      } finally {
        sink.finish();
        progress.done();
      }

      const report = coverageFromStepLog(db, callflow, ids);
      for (const s of report.strays) {
        warn(`warning: ${printable(s.path)}: ${plural(s.visits, 'step')} of "${printable(callflow.doc.id)}" at a path ${printable(callflow.file)} does not have`);
      }
      for (const line of renderCoverageText(report)) io.out(line);
      if (html) writeFileSync(html, renderCoverageHtml(report, checked.runnable));
      if (min !== undefined && !reachesMin(report, min)) {
        io.err(`coverage ${formatPercent(report.percent)} is below --min ${min}%`);
        return 1;
      }
      return failed ? 1 : 0;
    } finally {
      db.close();
    }
  },
};
