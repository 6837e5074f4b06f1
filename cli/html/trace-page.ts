import { createHash } from 'node:crypto';
import { shortId, timeline, type ExecutionDetail } from '../../integrations/sqlite/trace-queries.ts';
import { PAGE_CSS, PAGE_JS } from './assets.ts';
import { esc, jsonForScript } from './escape.ts';
import { PageWriter } from './writer.ts';
import { buildTree, isVisited, type Instance, type Tree, type TreeDocument, type TreeNode } from './tree.ts';

export type { TreeDocument } from './tree.ts';

export interface HtmlTraceOptions {
  /** Callflow documents (as loaded, defaults filled): the root's and any branched into. */
  readonly docs?: readonly TreeDocument[];
  /** Where `docs` came from, for the page's note (a file name). */
  readonly docSource?: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64');
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${sha256(PAGE_CSS)}'`,
  `script-src 'sha256-${sha256(PAGE_JS)}'`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const OUTCOMES = new Set(['continue', 'attempt', 'stop', 'branch', 'wait', 'skipped', 'unknown_module', 'error', 'empty']);
const outcomeClass = (o: unknown): string => `o-${typeof o === 'string' && OUTCOMES.has(o) ? o : 'other'}`;

const secs = (ms: number): string => (ms / 1000).toFixed(3);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const iso = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString());

function parseJson(s: unknown): unknown {
  if (typeof s !== 'string') return s;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** Escaped, cut to `n` characters with an ellipsis. */
const clipEsc = (s: string, n: number): string => (s.length > n ? `${esc(s.slice(0, n - 1))}&hellip;` : esc(s));

/** A short label for a node from its data: what it dials, branches to or sends. */
function subtitle(data: unknown): string {
  if (data === null || typeof data !== 'object') return '';
  const o = data as Record<string, unknown>;
  for (const k of ['id', 'template_id', 'name', 'number']) {
    const v = o[k];
    if (typeof v === 'string' && v.length > 0) return clipEsc(v, 48);
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// the tree

function nodeBox(t: Tree, d: ExecutionDetail, n: TreeNode, parent: TreeNode | null, hasDocs: boolean): string {
  const visited = isVisited(t, n, parent);
  if (n.kind === 'empty') {
    return `<div class="end${visited ? ' visited' : ''}" data-id="${n.id}" tabindex="0" title="empty child: stop">${visited ? 'end' : '{}'}</div>`;
  }
  const first = n.steps.length > 0 ? d.steps[n.steps[0]!]! : undefined;
  const last = n.steps.length > 0 ? d.steps[n.steps[n.steps.length - 1]!]! : undefined;
  const cls = ['node', visited ? 'visited' : 'unvisited'];
  if (last) cls.push(outcomeClass(last.outcome));
  if (n.docModule !== null || (hasDocs && !n.inDoc && n.steps.length > 0)) cls.push('mismatch');
  const sub = subtitle(first ? parseJson(first.data) : n.docData);
  let meta: string;
  let err = '';
  if (first && last) {
    const dur = num(first.duration_ms);
    const outcome = last.outcome === null ? 'running' : String(last.outcome);
    meta =
      `<span class="badge ${outcomeClass(last.outcome)}">${esc(outcome)}</span>` +
      `<span class="dur">${dur === null ? 'running' : `${secs(dur)}s`}${n.steps.length > 1 ? ` &times;${n.steps.length}` : ''}</span>`;
    const withError = n.steps.map((i) => d.steps[i]!).find((s) => s.error_kind);
    if (withError) err = `<div class="n-err">${esc(withError.error_kind)}: ${esc(withError.error_message)}</div>`;
  } else {
    meta = '<span class="badge plain">not visited</span>';
  }
  const seqAttr = first ? ` data-seq="${num(first.seq) ?? ''}"` : '';
  return (
    `<div class="${cls.join(' ')}" data-id="${n.id}"${seqAttr} data-module="${esc(n.module)}" tabindex="0">` +
    `<div class="n-top"><span class="mod">${esc(n.module)}</span>${first ? `<span class="seq">#${num(first.seq) ?? ''}</span>` : ''}</div>` +
    (sub ? `<div class="n-sub">${sub}</div>` : '') +
    `<div class="n-meta">${meta}</div>${err}</div>`
  );
}

function edge(t: Tree, from: TreeNode, to: TreeNode): string {
  const key = to.key ?? '';
  const taken = t.taken[from.id]?.has(key) ?? false;
  const cls = taken ? ' taken' : isVisited(t, to, from) ? ' returned' : '';
  return `<div class="edge${cls}" data-from="${from.id}"><span class="key">${esc(key)}</span></div>`;
}

/** Trees with at most this many nodes are drawn with every branched-into callflow unfolded. */
export const OPEN_LIMIT = 600;

type Task = string | { readonly node: TreeNode; readonly parent: TreeNode | null };

function subHead(d: ExecutionDetail, inst: Instance): string {
  const n = inst.stepIdx.length;
  const first = n === 0 ? null : num(d.steps[inst.stepIdx[0]!]!.seq);
  const span = n === 0 ? 'no steps' : `${n} step${n === 1 ? '' : 's'} from #${first ?? '?'}`;
  return `<summary class="sub-head"><span>&#8627; branch into <b>${esc(inst.callflowId)}</b></span><span>${span}</span></summary>`;
}

/**
 * Writes the tree without recursion: a chain of single children stays in one column (so a long
 * walk is a long column, not deep markup), and forks and branches push their parts on a stack.
 */
function renderInstances(t: Tree, d: ExecutionDetail, roots: readonly Instance[], hasDocs: boolean, out: PageWriter): void {
  // A big tree starts with its branched-into callflows folded: laying out tens of thousands of
  // nested boxes at once would keep the browser busy for seconds. Selecting a node unfolds.
  const open = t.nodes.length <= OPEN_LIMIT ? ' open' : '';
  const first: Task[] = [];
  roots.forEach((inst, r) => {
    if (r === 0) first.push('<div class="col">', { node: inst.root, parent: null }, '</div>');
    else first.push(`<div class="col"><details class="sub orphan"${open}>${subHead(d, inst)}<div class="col">`, { node: inst.root, parent: null }, '</div></details></div>');
  });
  const stack: Task[] = first.reverse();
  while (stack.length > 0) {
    const task = stack.pop()!;
    if (typeof task === 'string') {
      out.push(task);
      continue;
    }
    const { node, parent } = task;
    const seq: Task[] = [nodeBox(t, d, node, parent, hasDocs)];
    for (const sub of node.subflows) {
      seq.push(
        `<div class="edge branch-edge" data-from="${node.id}"><span class="key">branch</span></div>` +
          `<details class="sub"${open}>${subHead(d, sub)}<div class="col">`,
        { node: sub.root, parent: null },
        '</div></details>',
      );
    }
    const kids = node.children;
    if (kids.length === 1) {
      seq.push(edge(t, node, kids[0]!), { node: kids[0]!, parent: node });
    } else if (kids.length > 1) {
      const on = kids.some((c) => isVisited(t, c, node));
      seq.push(`<div class="stem${on ? ' on' : ''}"></div><div class="fork">`);
      for (const c of kids) seq.push('<div class="col">', edge(t, node, c), { node: c, parent: node }, '</div>');
      seq.push('</div>');
    }
    for (let i = seq.length - 1; i >= 0; i--) stack.push(seq[i]!);
  }
}

// ---------------------------------------------------------------------------------------------
// the timeline's order

/**
 * The timeline's rows in the order they happened, as one string of tokens ("s0 c0 e0 e1 s1 ...":
 * kind letter and index): steps, events, commands and effects interleave by `ord`; each outbox
 * message (and its attempts) goes after the rows at or before the call time it was queued. The
 * script builds the rows from the records themselves, so the page holds each value once.
 */
function timelineOrder(d: ExecutionDetail): string {
  const index = (rows: readonly Record<string, unknown>[]): Map<unknown, number> => {
    const m = new Map<unknown, number>();
    for (let i = 0; i < rows.length; i++) m.set(rows[i], i);
    return m;
  };
  const idx = { step: index(d.steps), event: index(d.events), command: index(d.commands), effect: index(d.effects) };
  const letter = { step: 's', event: 'e', command: 'c', effect: 'f' } as const;
  const messages = d.messages.map((m, i) => ({ i, at: num(m.queued_call_at) ?? Number.POSITIVE_INFINITY })).sort((a, b) => a.at - b.at || a.i - b.i);
  const tokens: string[] = [];
  let mi = 0;
  for (const r of timeline(d)) {
    while (mi < messages.length && messages[mi]!.at < r.at) tokens.push(`m${messages[mi++]!.i}`);
    tokens.push(`${letter[r.kind]}${idx[r.kind].get(r.row)}`);
  }
  while (mi < messages.length) tokens.push(`m${messages[mi++]!.i}`);
  return tokens.join(' ');
}

// ---------------------------------------------------------------------------------------------
// the data the script reads

/**
 * Everything the details panel shows, as compact arrays (a 10,000-step call has some 40,000
 * records): times relative to the call's start, channel uuids and callflow ids interned.
 * The field order is mirrored by the accessors at the top of PAGE_JS.
 */
function pageData(d: ExecutionDetail, t: Tree, hasDocs: boolean): unknown {
  const start = d.execution.started_at;
  const relOf = (v: unknown): number | null => {
    const n = num(v);
    return n === null ? null : n - start;
  };
  const interner = (): { list: unknown[]; id(v: unknown): number } => {
    const map = new Map<unknown, number>();
    const list: unknown[] = [];
    return {
      list,
      id(v) {
        let i = map.get(v);
        if (i === undefined) {
          i = list.length;
          list.push(v);
          map.set(v, i);
        }
        return i;
      },
    };
  };
  const cfs = interner();
  const uuids = interner();
  const parentOf: (TreeNode | null)[] = new Array<TreeNode | null>(t.nodes.length).fill(null);
  for (const n of t.nodes) for (const c of n.children) parentOf[c.id] = n;
  const nodes = t.nodes.map((n) => [
    n.module,
    cfs.id(n.callflowId),
    n.path,
    n.key,
    n.steps,
    n.steps.length === 0 ? (n.docData ?? null) : null,
    n.docModule,
    (n.kind === 'empty' ? 1 : 0) | (isVisited(t, n, parentOf[n.id] ?? null) ? 2 : 0) | (n.inDoc ? 4 : 0),
  ]);
  const steps = d.steps.map((s) => [
    s.seq,
    s.parent_seq ?? null,
    s.data ?? null,
    s.outcome ?? null,
    s.requested_key ?? null,
    s.child_key ?? null,
    s.reason ?? null,
    relOf(s.started_at),
    s.duration_ms ?? null,
    s.error_kind ?? null,
    s.error_message ?? null,
    s.notes === '[]' ? null : (s.notes ?? null),
    s.module ?? null,
    s.callflow_id ?? null,
    s.node_path ?? null,
  ]);
  const events = d.events.map((e) => [relOf(e.at), e.step_seq ?? null, uuids.id(e.uuid), e.name, e.headers]);
  const commands = d.commands.map((c) => [
    relOf(c.at),
    c.step_seq ?? null,
    uuids.id(c.uuid),
    c.app,
    c.args,
    c.application_uuid,
    c.ack ?? null,
    relOf(c.completed_at),
    c.response ?? null,
    c.error_kind ?? null,
  ]);
  return {
    hasDocs,
    cfs: cfs.list,
    uuids: uuids.list,
    nodes,
    steps,
    sn: t.stepNode,
    events,
    commands,
    effects: d.effects.map((f) => ({ ...f, at: relOf(f.at) })),
    messages: d.messages.map((m) => ({ ...m, queued_call_at: relOf(m.queued_call_at) })),
    order: timelineOrder(d),
  };
}

// ---------------------------------------------------------------------------------------------
// the page

function header(d: ExecutionDetail, notice: string[]): string {
  const e = d.execution;
  const yn = (v: number | null): string => (v === null ? '-' : v ? 'yes' : 'no');
  const fact = (k: string, v: string): string => `<div><dt>${k}</dt><dd title="${v.replace(/<[^>]*>/g, '')}">${v}</dd></div>`;
  const facts = [
    fact('caller', `${esc(e.caller_name)} &lt;${esc(e.caller_number)}&gt; &rarr; ${esc(e.callee_number)}`),
    fact(
      'callflow',
      `${esc(e.callflow_id ?? '(none)')}${e.callflow_name ? ` &ldquo;${esc(e.callflow_name)}&rdquo;` : ''}${e.callflow_revision ? ` rev ${esc(e.callflow_revision)}` : ''}`,
    ),
    fact('routed', `${esc(e.route_by ?? '-')}${e.route_pattern ? ` ${esc(e.route_pattern)}` : ''}${e.capture_group ? ` capture &ldquo;${esc(e.capture_group)}&rdquo;` : ''}`),
    fact('started', `${esc(iso(e.started_at))} <span class="w">(call clock)</span>`),
    fact('wall', `${esc(iso(e.wall_started_at))}${e.wall_ended_at !== null ? ` &rarr; ${esc(iso(e.wall_ended_at).slice(11))}` : ''}`),
    fact('duration', e.duration_ms === null ? '-' : `${secs(e.duration_ms)}s`),
    fact('hangup', `${esc(e.hangup_cause ?? '-')}${e.hangup_code ? ` ${esc(e.hangup_code)}` : ''} by ${esc(e.hangup_by ?? '-')}${e.disposition ? ` (${esc(e.disposition)})` : ''}`),
    fact('result', `answered ${yn(e.answered)} &middot; bridged ${yn(e.call_bridged)} &middot; message ${yn(e.message_left)}`),
    fact('source', `${esc(e.source)}${e.scenario ? `: ${esc(e.scenario)}` : ''}`),
  ];
  const status = ['completed', 'failed', 'incomplete', 'running'].includes(e.status) ? e.status : 'other';
  return (
    `<header><h1>Call trace <span class="id mono">${esc(e.id)}</span>` +
    `<span class="status s-${status}">${esc(e.status)} &middot; ${esc(e.end_reason ?? '-')}</span></h1>` +
    `<dl class="facts">${facts.join('')}</dl>` +
    (e.error ? `<div class="notice warn">error: ${esc(e.error)}</div>` : '') +
    notice.join('') +
    '</header>'
  );
}

/** The whole page for one execution: one self-contained HTML string. */
export function renderTraceHtml(d: ExecutionDetail, opts: HtmlTraceOptions = {}): string {
  const docs = opts.docs ?? [];
  const hasDocs = docs.length > 0;
  const t = buildTree(d, docs);
  const e = d.execution;

  const notice: string[] = [];
  if (!hasDocs) {
    notice.push(
      '<div class="notice">The tree is rebuilt from the step log: it shows the nodes this call visited. ' +
        'Give <span class="mono">--account FILE</span> to draw the whole callflow, with the nodes never visited dimmed.</div>',
    );
  } else {
    const rootDoc = docs.find((x) => x.doc.id === e.callflow_id);
    const src = opts.docSource ? ` from <span class="mono">${esc(opts.docSource)}</span>` : '';
    if (!rootDoc) {
      notice.push(`<div class="notice warn">Callflow ${esc(e.callflow_id ?? '(none)')} is not in the documents given${src}: its tree is rebuilt from the step log.</div>`);
    } else if (rootDoc.revision && e.callflow_revision && rootDoc.revision !== e.callflow_revision) {
      notice.push(
        `<div class="notice warn">The callflow document${src} is revision ${esc(rootDoc.revision)}, but this call ran revision ${esc(e.callflow_revision)}: ` +
          'nodes not visited are drawn from the document as it is now.</div>',
      );
    } else {
      notice.push(`<div class="notice">The whole callflow is drawn${src}; nodes this call never reached are dimmed.</div>`);
    }
  }

  if (t.nodes.length > OPEN_LIMIT && t.nodes.some((n) => n.subflows.length > 0)) {
    notice.push(`<div class="notice">A big call (${t.nodes.length} nodes): the callflows it branched into are folded; click &#9656; to unfold one, or select a step in the timeline.</div>`);
  }
  const roots = [...(t.root ? [t.root] : []), ...t.orphans];
  const out = new PageWriter();
  out.push(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>Call trace ${esc(shortId(e.id))}${e.scenario ? ` &middot; ${esc(e.scenario)}` : ''}</title>`,
    `<style>${PAGE_CSS}</style></head><body>`,
    header(d, notice),
    '<main><div class="left">',
    '<section class="card"><h2>Callflow <span class="aside legend">' +
      '<span><i class="lg-path"></i>path taken</span><span><i class="lg-dim"></i>not taken</span>' +
      '<span><i class="lg-sub"></i>branched-into callflow</span><span>click a node for details</span></span></h2>',
    '<div class="scroll" id="tree-scroll"><div class="tree" id="tree">',
  );
  if (roots.length === 0) out.push('<div class="placeholder">No steps were recorded for this call (it never reached a callflow).</div>');
  else renderInstances(t, d, roots, hasDocs, out);
  out.push(
    '</div></div></section>',
    '<section class="card"><h2>Details</h2><div class="scroll" id="details"><p class="placeholder">Click a node in the tree (or a row of the timeline) to see its data, its steps and any error.</p></div></section>',
    '</div>',
    '<section class="card"><h2>Timeline <span class="aside">' +
      ['step', 'event', 'command', 'effect', 'message']
        .map((k) => `<label class="flt"><input type="checkbox" data-filter="${k}" checked>${k === 'effect' ? 'post-hangup' : `${k}s`}</label>`)
        .join('') +
      '</span></h2>',
    '<div class="r cols"><span class="t">call clock</span><span class="w">wall (UTC)</span><span class="d">what</span></div>',
    '<div class="scroll" id="timeline"></div></section></main><div id="tip" hidden></div>',
  );

  const data = pageData(d, t, hasDocs);
  out.push(`<script type="application/json" id="trace-data">${jsonForScript(data)}</script>`, `<script>${PAGE_JS}</script>`, '</body></html>');
  return out.toString();
}
