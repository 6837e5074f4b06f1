/**
 * The page's stylesheet and script, inline (the page must work from a file, offline). The page's
 * Content-Security-Policy allows exactly these two by hash, so nothing else can run or style it.
 *
 * The script reads the trace from a `<script type="application/json">` block and builds every
 * element it shows with createElement/textContent: no untrusted string is ever parsed as markup.
 */

export const PAGE_CSS = `
:root {
  --bg: #f4f6f9; --panel: #fff; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb;
  --path: #2563eb; --path-soft: #dbeafe; --dim: #c4ccd8; --sel: #f59e0b;
  --o-continue: #2563eb; --o-attempt: #d97706; --o-stop: #16a34a; --o-branch: #7c3aed;
  --o-wait: #0891b2; --o-skipped: #64748b; --o-unknown_module: #64748b; --o-error: #dc2626;
  --o-empty: #64748b; --o-other: #64748b;
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body {
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg);
  display: grid; grid-template-rows: auto minmax(0, 1fr);
}
.mono, pre, .key, .t, .w, .d-path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
header { background: var(--panel); border-bottom: 1px solid var(--line); padding: 10px 18px 12px; }
header h1 { font-size: 15px; margin: 0 0 6px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; font-weight: 600; }
header h1 .id { font-weight: 400; color: var(--muted); font-size: 12.5px; }
.status { font-size: 11.5px; font-weight: 600; padding: 1px 8px; border-radius: 10px; background: #e5e7eb; color: #374151; }
.status.s-completed { background: #dcfce7; color: #166534; }
.status.s-failed, .status.s-incomplete { background: #fee2e2; color: #991b1b; }
.status.s-running { background: #e0f2fe; color: #075985; }
.facts { display: flex; flex-wrap: wrap; gap: 3px 26px; margin: 0; }
.facts div { display: flex; gap: 7px; min-width: 0; max-width: 100%; }
.facts dt { color: var(--muted); flex: none; }
.facts dd { margin: 0; min-width: 0; max-width: 560px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.notice { margin-top: 8px; font-size: 12px; color: #475569; background: #f8fafc; border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
.notice.warn, .warn { background: #fffbeb; border: 1px solid #fde68a; color: #92400e; border-radius: 6px; padding: 4px 10px; }
.err-line { color: #b91c1c; }
main { display: grid; grid-template-columns: minmax(0, 1.1fr) minmax(440px, 1fr); gap: 12px; padding: 12px; min-height: 0; }
.left { display: grid; grid-template-rows: minmax(0, 1fr) minmax(200px, 36%); gap: 12px; min-height: 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; min-height: 0; display: flex; flex-direction: column; overflow: hidden; }
.card > h2 {
  font-size: 11.5px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600;
  margin: 0; padding: 8px 12px; border-bottom: 1px solid var(--line); display: flex; gap: 14px; align-items: center; flex-wrap: wrap;
}
.card > h2 .aside { margin-left: auto; text-transform: none; letter-spacing: 0; font-weight: 400; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.scroll { overflow: auto; min-height: 0; flex: 1; contain: strict; }
.legend i { display: inline-block; width: 18px; height: 0; vertical-align: middle; margin-right: 4px; }
.legend .lg-path { border-top: 3px solid var(--path); }
.legend .lg-dim { border-top: 2px dashed var(--dim); }
.legend .lg-sub { width: 12px; height: 10px; border: 1.5px dashed #a78bfa; border-radius: 3px; background: #faf7ff; }

/* the tree */
.tree { display: flex; justify-content: center; padding: 18px 24px 30px; min-width: max-content; }
.tree > .col + .col { margin-left: 40px; }
.col { display: flex; flex-direction: column; align-items: center; }
.node {
  --oc: #94a3b8; position: relative; width: 196px; background: #fff; border: 1px solid var(--dim);
  border-left: 5px solid var(--oc); border-radius: 8px; padding: 5px 9px 6px; cursor: pointer;
  box-shadow: 0 1px 2px rgba(15, 23, 42, .06);
}
.node.visited { border-color: var(--path); border-left-color: var(--oc); box-shadow: 0 0 0 2px var(--path-soft), 0 1px 3px rgba(15, 23, 42, .12); }
.node.unvisited { opacity: .5; border-style: dashed; border-left-style: solid; background: #f8fafc; box-shadow: none; }
.node.unvisited:hover { opacity: .85; }
.node.selected { box-shadow: 0 0 0 3px var(--sel), 0 1px 3px rgba(15, 23, 42, .12); }
.node:focus-visible { outline: 2px solid var(--sel); outline-offset: 3px; }
.node.mismatch::after { content: "!"; position: absolute; top: -8px; right: -8px; width: 16px; height: 16px; border-radius: 8px; background: #f59e0b; color: #fff; font-weight: 700; font-size: 11px; text-align: center; line-height: 16px; }
.n-top { display: flex; justify-content: space-between; gap: 6px; align-items: baseline; }
.mod { font-weight: 600; font-size: 13px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.seq { color: var(--muted); font-size: 11px; flex: none; }
.n-sub { color: var(--muted); font-size: 11.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.n-meta { display: flex; gap: 6px; align-items: center; margin-top: 3px; font-size: 11px; color: #475569; }
.n-meta .dur { margin-left: auto; }
.n-err { font-size: 11px; color: #b91c1c; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 10.5px; font-weight: 600; color: #fff; background: var(--oc, #94a3b8); white-space: nowrap; }
.badge.plain { background: #e2e8f0; color: #475569; }
.o-continue { --oc: var(--o-continue); } .o-attempt { --oc: var(--o-attempt); } .o-stop { --oc: var(--o-stop); }
.o-branch { --oc: var(--o-branch); } .o-wait { --oc: var(--o-wait); } .o-skipped { --oc: var(--o-skipped); }
.o-unknown_module { --oc: var(--o-unknown_module); } .o-error { --oc: var(--o-error); } .o-empty { --oc: var(--o-empty); }
.o-other { --oc: var(--o-other); }
.edge { position: relative; display: flex; justify-content: center; align-items: center; min-height: 44px; padding: 4px 0 11px; align-self: stretch; }
.edge::before { content: ""; position: absolute; top: 0; bottom: 6px; left: 50%; margin-left: -1px; border-left: 2px dashed var(--dim); }
.edge::after { content: ""; position: absolute; bottom: 0; left: 50%; margin-left: -5px; border-left: 5px solid transparent; border-right: 5px solid transparent; border-top: 7px solid var(--dim); }
.edge .key { position: relative; background: #fff; border: 1px solid var(--dim); color: var(--muted); border-radius: 10px; padding: 1px 8px; line-height: 16px; font-size: 12px; min-width: 26px; text-align: center; max-width: 180px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.edge.taken::before, .edge.returned::before { border-left: 3px solid var(--path); margin-left: -1.5px; }
.edge.taken::after, .edge.returned::after { border-top-color: var(--path); }
.edge.taken .key { background: var(--path); border-color: var(--path); color: #fff; font-weight: 600; }
.edge.returned .key { border-color: var(--path); color: var(--path); font-weight: 600; }
.edge.branch-edge::before { border-left: 3px solid var(--o-branch); margin-left: -1.5px; }
.edge.branch-edge::after { border-top-color: var(--o-branch); }
.edge.branch-edge .key { border-color: var(--o-branch); color: var(--o-branch); font-family: inherit; }
.stem { height: 14px; border-left: 2px dashed var(--dim); }
.stem.on { border-left: 3px solid var(--path); }
.fork { display: flex; align-items: flex-start; }
.fork > .col { position: relative; padding: 0 10px; }
.fork > .col::before { content: ""; position: absolute; top: 0; left: 0; right: 0; border-top: 2px solid var(--dim); }
.fork > .col:first-child::before { left: 50%; }
.fork > .col:last-child::before { right: 50%; }
.sub { display: block; border: 1.5px dashed #a78bfa; background: #faf7ff; border-radius: 12px; padding: 6px 16px 16px; }
.sub:not([open]) { padding-bottom: 6px; }
.sub-head { list-style: none; cursor: pointer; font-size: 11.5px; color: #6d28d9; margin-bottom: 8px; display: flex; justify-content: space-between; gap: 14px; white-space: nowrap; }
.sub:not([open]) > .sub-head { margin-bottom: 0; }
.sub-head::-webkit-details-marker { display: none; }
.sub-head::before { content: "\\25BE"; margin-right: -8px; }
.sub:not([open]) > .sub-head::before { content: "\\25B8"; }
.sub-head b { font-weight: 600; }
.end { font-size: 11px; color: var(--muted); border: 1px dashed var(--dim); border-radius: 12px; padding: 1px 12px; background: #fff; cursor: pointer; }
.end.visited { border: 2px solid var(--path); color: var(--ink); }
.end.selected { box-shadow: 0 0 0 3px var(--sel); }

/* details */
#details { padding: 10px 14px 14px; }
.placeholder { color: var(--muted); }
.d-head { display: flex; gap: 8px; align-items: center; font-size: 15px; font-weight: 600; flex-wrap: wrap; }
.d-path { color: var(--muted); font-size: 12px; margin: 2px 0 6px; word-break: break-all; }
.d-sec { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 12px 0 4px; font-weight: 600; }
.step-card { border: 1px solid var(--line); border-left: 4px solid var(--oc, #94a3b8); border-radius: 8px; padding: 6px 10px; margin: 6px 0; }
dl.kv { display: grid; grid-template-columns: 112px minmax(0, 1fr); gap: 2px 10px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
dl.kv dd.err-line { font-weight: 600; }
ul.notes { margin: 2px 0 0; padding-left: 18px; }
ul.notes li { overflow-wrap: anywhere; }
pre { background: #0f172a; color: #e2e8f0; border-radius: 8px; padding: 9px 12px; overflow: auto; font-size: 12px; margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.linkish { color: var(--path); cursor: pointer; text-decoration: underline; background: none; border: 0; padding: 0; font: inherit; }

/* timeline: fixed row heights, so the script can draw only the rows in view */
.r { display: grid; grid-template-columns: 66px 92px 76px minmax(0, 1fr); column-gap: 8px; padding: 0 12px; align-items: baseline; line-height: 22px; }
.r > .t { grid-column: 1; font-size: 12px; }
.r > .w { grid-column: 2; color: var(--muted); font-size: 11px; }
.r > .d { grid-column: 3; color: var(--muted); font-size: 11.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.r > .x { grid-column: 4; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.r.cols { color: var(--muted); font-size: 11px; border-bottom: 1px solid var(--line); background: #fafbfc; line-height: 26px; }
.r.cols > span { font-size: 11px; font-family: inherit; color: var(--muted); }
#timeline { position: relative; }
#tl-rows { position: absolute; left: 0; right: 0; top: 0; }
#timeline .r { height: 24px; border-bottom: 1px solid #f1f5f9; cursor: pointer; overflow: hidden; }
#timeline .r.k-step { height: 46px; padding-top: 1px; }
#timeline .r:hover { background: #f8fafc; }
#timeline .r.rel { background: #eff6ff; box-shadow: inset 3px 0 0 var(--path); }
#timeline .r.selected { background: #fef3c7; box-shadow: inset 3px 0 0 var(--sel); }
.k-step > .x { white-space: normal; overflow-wrap: anywhere; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; }
.x em { font-style: normal; color: var(--muted); }
.x small { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 11px; color: var(--muted); }
.x kbd { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 11.5px; background: #e0e7ff; color: #3730a3; border-radius: 8px; padding: 0 6px; display: inline-block; min-width: 20px; text-align: center; line-height: 17px; }
.x b { font-weight: 600; }
.er { color: #b91c1c; }
.k-step { background: #fbfcff; }
.k-step > .d { color: var(--ink); font-weight: 600; }
.k-event > .x::before { content: "\\2190  "; color: #0891b2; }
.k-command > .x::before { content: "\\2192  "; color: #d97706; }
.k-message > .x::before { content: "\\2709  "; color: #0f766e; }
.k-message > .d, .k-attempt > .d { color: #0f766e; }
.k-effect > .d { color: #7c3aed; }
.k-attempt > .x { padding-left: 16px; }
label.flt { display: inline-flex; gap: 4px; align-items: center; cursor: pointer; color: #374151; }

#tip {
  position: fixed; z-index: 10; max-width: 380px; background: #111827; color: #f9fafb; border-radius: 8px;
  padding: 8px 10px; font-size: 12px; pointer-events: none; box-shadow: 0 8px 24px rgba(0, 0, 0, .25);
}
#tip[hidden] { display: none; }
#tip .tip-h { font-weight: 600; margin-bottom: 2px; }
#tip .tip-r { color: #cbd5e1; overflow-wrap: anywhere; }
#tip .tip-e { color: #fca5a5; }
#tip pre { background: #1f2937; padding: 6px 8px; margin: 6px 0 0; max-height: 170px; overflow: hidden; font-size: 11px; }
`;

export const PAGE_JS = `
'use strict';
(function () {
  var D = JSON.parse(document.getElementById('trace-data').textContent);
  var details = document.getElementById('details');
  var tip = document.getElementById('tip');
  var tree = document.getElementById('tree');
  var tl = document.getElementById('timeline');
  var OUTCOMES = ['continue', 'attempt', 'stop', 'branch', 'wait', 'skipped', 'unknown_module', 'error', 'empty'];
  var CONTROL = /[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]/g;

  // ---- the compact records (field order: pageData in trace-page.ts)
  function N(id) {
    var a = D.nodes[id];
    if (!a) return null;
    return { id: id, m: a[0], cf: D.cfs[a[1]], p: a[2], k: a[3], st: a[4], doc: a[5], dm: a[6], e: !!(a[7] & 1), v: !!(a[7] & 2), d: !!(a[7] & 4) };
  }
  function S(i) {
    var a = D.steps[i];
    return { seq: a[0], parent_seq: a[1], data: a[2], outcome: a[3], requested_key: a[4], child_key: a[5], reason: a[6],
      started: a[7], duration_ms: a[8], error_kind: a[9], error_message: a[10], notes: a[11], module: a[12], callflow_id: a[13], node_path: a[14] };
  }
  function E(i) { var a = D.events[i]; return { at: a[0], step_seq: a[1], uuid: D.uuids[a[2]], name: a[3], headers: a[4] }; }
  function C(i) {
    var a = D.commands[i];
    return { at: a[0], step_seq: a[1], uuid: D.uuids[a[2]], app: a[3], args: a[4], application_uuid: a[5], ack: a[6], completed: a[7], response: a[8], error_kind: a[9] };
  }

  function str(v) { return v === null || v === undefined ? '' : String(v).replace(CONTROL, '\\ufffd'); }
  function oc(o) { return 'o-' + (OUTCOMES.indexOf(o) >= 0 ? o : 'other'); }
  function secs(ms) { return (ms / 1000).toFixed(3); }
  function rel(ms) { return typeof ms === 'number' ? '+' + secs(ms) + 's' : ''; }
  function wall(ms) { return typeof ms === 'number' ? new Date(ms).toISOString() : ''; }
  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = str(text);
    return e;
  }
  function parse(s) {
    if (s === null || s === undefined) return undefined;
    if (typeof s !== 'string') return s;
    try { return JSON.parse(s); } catch (e) { return s; }
  }
  function pretty(s) {
    var v = parse(s);
    if (v === undefined) return '';
    return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  }
  function kv(dl, k, v, cls) {
    if (v === null || v === undefined || v === '') return;
    dl.appendChild(h('dt', null, k));
    dl.appendChild(h('dd', cls || null, v));
  }
  function sec(parent, title) { parent.appendChild(h('div', 'd-sec', title)); }
  function pre(parent, text, cls) { var p = h('pre', cls || null, text); parent.appendChild(p); return p; }
  function show(frag) {
    details.replaceChildren(frag);
    details.scrollTop = 0;
  }

  // ---- selection and cross-highlighting
  var selectedEl = null;    // the selected tree node
  var selectedTok = null;   // the selected timeline row (its record token)
  var relSeqs = {};         // steps whose timeline rows are highlighted
  function clearSelection() {
    if (selectedEl) selectedEl.classList.remove('selected');
    selectedEl = null;
    selectedTok = null;
    relSeqs = {};
  }
  function unfold(el) {
    for (var d = el.parentElement ? el.parentElement.closest('details') : null; d; d = d.parentElement ? d.parentElement.closest('details') : null) d.open = true;
  }
  function nodeEl(id) { return tree.querySelector('[data-id="' + Number(id) + '"]'); }

  function selectNode(id, opts) {
    var n = N(id);
    if (!n) return;
    clearSelection();
    var el = nodeEl(id);
    if (el) {
      el.classList.add('selected');
      selectedEl = el;
      if (opts && opts.scrollTree) {
        unfold(el);
        el.scrollIntoView({ block: 'center', inline: 'center' });
      }
    }
    var firstTok = null;
    n.st.forEach(function (i) {
      relSeqs[S(i).seq] = true;
      if (firstTok === null) firstTok = 's' + i;
    });
    if (firstTok !== null && !(opts && opts.keepTimeline)) revealRow(firstTok);
    else drawRows();
    show(nodeView(n));
  }

  function stepCard(s) {
    var card = h('div', 'step-card ' + oc(s.outcome));
    var dl = h('dl', 'kv');
    kv(dl, 'step', '#' + s.seq + (s.parent_seq !== null ? '  (in the branch of step #' + s.parent_seq + ')' : ''));
    kv(dl, 'outcome', s.outcome === null ? '(none: still running)' : s.outcome);
    kv(dl, 'requested key', s.requested_key);
    kv(dl, 'child key', s.child_key === null ? '(none taken)' : s.child_key);
    kv(dl, 'reason', s.reason, 'reason');
    kv(dl, 'started', rel(s.started));
    kv(dl, 'duration', typeof s.duration_ms === 'number' ? secs(s.duration_ms) + 's' : 'not finished');
    if (s.error_kind || s.error_message) kv(dl, 'error', str(s.error_kind) + ': ' + str(s.error_message), 'err-line');
    card.appendChild(dl);
    var notes = parse(s.notes);
    if (Array.isArray(notes) && notes.length) {
      sec(card, 'notes');
      var ul = h('ul', 'notes');
      notes.forEach(function (x) { ul.appendChild(h('li', null, typeof x === 'string' ? x : JSON.stringify(x))); });
      card.appendChild(ul);
    }
    return card;
  }

  function nodeView(n) {
    var f = document.createDocumentFragment();
    var steps = n.st.map(S);
    var head = h('div', 'd-head');
    head.appendChild(h('span', 'd-mod', n.e ? 'empty child {}' : n.m));
    if (steps.length) {
      var last = steps[steps.length - 1];
      head.appendChild(h('span', 'badge ' + oc(last.outcome), last.outcome === null ? 'running' : last.outcome));
    } else head.appendChild(h('span', 'badge plain', n.v ? 'reached: stop' : 'not visited'));
    f.appendChild(head);
    f.appendChild(h('div', 'd-path', n.cf + n.p + (n.k !== null ? '   (child key ' + JSON.stringify(n.k) + ')' : '')));
    if (n.dm) f.appendChild(h('div', 'warn', 'The document loaded has module "' + n.dm + '" here; this call ran "' + n.m + '". The document has changed since.'));
    if (!n.d && steps.length && D.hasDocs) f.appendChild(h('div', 'warn', 'This node is not in the document loaded: it is drawn from the step log.'));
    if (n.e) {
      f.appendChild(h('p', null, n.v ? 'The call reached this empty child, which stops the callflow (or returns from a branch).' : 'An empty child: reaching it stops the callflow.'));
      return f;
    }
    if (steps.length) {
      sec(f, steps.length === 1 ? 'step' : 'steps (' + steps.length + ')');
      steps.forEach(function (s) { f.appendChild(stepCard(s)); });
      var seen = {};
      steps.forEach(function (s) {
        if (Object.prototype.hasOwnProperty.call(seen, s.data)) return;
        seen[s.data] = true;
        sec(f, 'data after defaults' + (steps.length > 1 ? ' (step #' + s.seq + ')' : ''));
        pre(f, pretty(s.data), 'data');
      });
      var seqs = steps.map(function (s) { return s.seq; });
      var ev = 0, cmd = 0, i;
      for (i = 0; i < D.events.length; i++) if (seqs.indexOf(D.events[i][1]) >= 0) ev++;
      for (i = 0; i < D.commands.length; i++) if (seqs.indexOf(D.commands[i][1]) >= 0) cmd++;
      sec(f, 'during this step');
      f.appendChild(h('div', null, cmd + ' command' + (cmd === 1 ? '' : 's') + ' sent, ' + ev + ' channel event' + (ev === 1 ? '' : 's') + ' received (highlighted in the timeline)'));
    } else {
      f.appendChild(h('p', 'placeholder', 'This call never reached this node.'));
      if (n.doc !== undefined && n.doc !== null) {
        sec(f, 'data (from the document, defaults filled)');
        pre(f, pretty(n.doc), 'data');
      }
    }
    return f;
  }

  function rowView(kind, i) {
    var f = document.createDocumentFragment();
    var dl = h('dl', 'kv');
    var r;
    if (kind === 'e') {
      r = E(i);
      f.appendChild(h('div', 'd-head', 'channel event ' + str(r.name)));
      kv(dl, 'at', rel(r.at));
      kv(dl, 'during step', r.step_seq === null ? '(none)' : '#' + r.step_seq);
      kv(dl, 'channel', r.uuid);
      f.appendChild(dl);
      sec(f, 'headers');
      var hs = parse(r.headers);
      if (hs && typeof hs === 'object') {
        var hl = h('dl', 'kv');
        Object.keys(hs).forEach(function (k) { kv(hl, k, typeof hs[k] === 'string' ? hs[k] : JSON.stringify(hs[k])); });
        f.appendChild(hl);
      } else pre(f, str(r.headers));
    } else if (kind === 'c') {
      r = C(i);
      f.appendChild(h('div', 'd-head', 'command ' + str(r.app)));
      kv(dl, 'sent', rel(r.at));
      kv(dl, 'during step', r.step_seq === null ? '(none)' : '#' + r.step_seq);
      kv(dl, 'channel', r.uuid);
      kv(dl, 'Application-UUID', r.application_uuid);
      kv(dl, 'ack', r.ack === null ? 'not sent' : r.ack);
      kv(dl, 'completed', r.completed === null ? 'never' : rel(r.completed));
      kv(dl, 'response', r.response);
      if (r.error_kind) kv(dl, 'error', r.error_kind, 'err-line');
      f.appendChild(dl);
      sec(f, 'arguments');
      pre(f, pretty(r.args));
    } else if (kind === 'f') {
      r = D.effects[i];
      f.appendChild(h('div', 'd-head', 'post-hangup effect'));
      kv(dl, 'at', rel(r.at));
      kv(dl, 'module', r.module);
      kv(dl, 'status', r.status);
      kv(dl, 'handler', r.handler_key);
      if (r.error_kind || r.error_message) kv(dl, 'error', str(r.error_kind) + ': ' + str(r.error_message), 'err-line');
      f.appendChild(dl);
      sec(f, 'detail');
      pre(f, pretty(r.detail));
    } else if (kind === 'm') {
      r = D.messages[i];
      f.appendChild(h('div', 'd-head', 'message #' + str(r.id) + ' (' + str(r.medium) + ')'));
      kv(dl, 'recipient', r.recipient);
      kv(dl, 'template', r.template_id);
      kv(dl, 'status', r.status);
      kv(dl, 'queued', rel(r.queued_call_at) + ' (call clock)');
      kv(dl, 'created', wall(r.created_at) + ' (wall clock)');
      kv(dl, 'sent', wall(r.sent_at));
      kv(dl, 'provider id', r.provider_id);
      if (r.last_error || r.error_code) kv(dl, 'last error', str(r.error_code) + ' ' + str(r.last_error), 'err-line');
      kv(dl, 'node', r.node_key);
      f.appendChild(dl);
      sec(f, 'delivery attempts (wall clock)');
      var atts = r.attempts_detail || [];
      if (!atts.length) f.appendChild(h('div', 'placeholder', 'none yet'));
      atts.forEach(function (a) {
        var card = h('div', 'step-card ' + (a.outcome === 'sent' ? 'o-stop' : 'o-error'));
        var al = h('dl', 'kv');
        kv(al, 'attempt', a.attempt);
        kv(al, 'outcome', a.outcome);
        kv(al, 'started', wall(a.started_at));
        kv(al, 'ended', wall(a.ended_at));
        kv(al, 'code', a.code);
        kv(al, 'detail', a.detail);
        card.appendChild(al);
        f.appendChild(card);
      });
      sec(f, 'message as rendered');
      pre(f, pretty(r.message));
    }
    return f;
  }

  // ---- tree: click, keyboard, hover
  function nodeTarget(ev) {
    var t = ev.target;
    return t && t.closest ? t.closest('[data-id]') : null;
  }
  tree.addEventListener('click', function (ev) {
    var el = nodeTarget(ev);
    if (el) selectNode(Number(el.getAttribute('data-id')));
  });
  tree.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    var el = nodeTarget(ev);
    if (el) { ev.preventDefault(); selectNode(Number(el.getAttribute('data-id'))); }
  });
  tree.addEventListener('mouseover', function (ev) {
    var el = nodeTarget(ev);
    if (!el) return;
    var n = N(Number(el.getAttribute('data-id')));
    if (!n) return;
    tip.replaceChildren();
    tip.appendChild(h('div', 'tip-h', (n.e ? 'empty child' : n.m) + '  ' + n.cf + n.p));
    if (n.st.length) {
      var s = S(n.st[0]);
      tip.appendChild(h('div', null, '#' + s.seq + '  ' + str(s.outcome) + (s.child_key !== null ? '  \\u2192 ' + str(s.child_key) : '') +
        (typeof s.duration_ms === 'number' ? '  ' + secs(s.duration_ms) + 's' : '') + (n.st.length > 1 ? '  (+' + (n.st.length - 1) + ' more)' : '')));
      if (s.reason) tip.appendChild(h('div', 'tip-r', s.reason));
      if (s.error_kind) tip.appendChild(h('div', 'tip-e', str(s.error_kind) + ': ' + str(s.error_message)));
      tip.appendChild(h('pre', null, pretty(s.data).split('\\n').slice(0, 12).join('\\n')));
    } else {
      tip.appendChild(h('div', 'tip-r', n.e ? (n.v ? 'reached: stop' : 'empty child: reaching it stops the callflow') : 'not visited'));
      if (n.doc !== undefined && n.doc !== null) tip.appendChild(h('pre', null, pretty(n.doc).split('\\n').slice(0, 12).join('\\n')));
    }
    var r = el.getBoundingClientRect();
    tip.hidden = false;
    var w = tip.offsetWidth, ht = tip.offsetHeight;
    var x = r.right + 10, y = r.top;
    if (x + w > window.innerWidth - 8) x = Math.max(8, r.left - w - 10);
    if (y + ht > window.innerHeight - 8) y = Math.max(8, window.innerHeight - ht - 8);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  });
  tree.addEventListener('mouseout', function (ev) {
    var el = nodeTarget(ev);
    if (el && !(ev.relatedTarget && el.contains(ev.relatedTarget))) tip.hidden = true;
  });
  document.getElementById('tree-scroll').addEventListener('scroll', function () { tip.hidden = true; });

  // ---- timeline: drawn here from the records (only the rows in view)
  var EVENT_DETAIL = ['Application', 'Application-Response', 'Hangup-Cause', 'variable_sip_hangup_disposition', 'DTMF-Digit',
    'Other-Leg-Unique-ID', 'variable_originate_disposition', 'variable_record_ms'];
  function add(parent, tag, cls, text) { var e = h(tag, cls, text); parent.appendChild(e); return e; }
  function txt(parent, text) { parent.appendChild(document.createTextNode(str(text))); }
  function clip(v, n) { var s = str(v); return s.length > n ? s.slice(0, n - 1) + '\\u2026' : s; }
  function wallCell(row, ms) {
    if (typeof ms !== 'number') return;
    var c = add(row, 'span', 'w', wall(ms).slice(11, 23));
    c.title = wall(ms);
  }
  function newRow(kind, ref, seq, at) {
    var row = document.createElement('div');
    row.className = 'r k-' + kind;
    row.setAttribute('data-r', ref);
    if (typeof seq === 'number') row.setAttribute('data-s', String(seq));
    if (typeof at === 'number') add(row, 'span', 't', '+' + secs(at));
    return row;
  }
  function buildRow(item) {
    var tok = item.tok, kind = tok.charAt(0), i = Number(tok.slice(1)), row, x, r;
    if (kind === 's') {
      var s = S(i);
      row = newRow('step', tok, s.seq, s.started);
      add(row, 'span', 'd', 'step ' + s.seq);
      x = add(row, 'span', 'x');
      add(x, 'span', 'badge ' + oc(s.outcome), s.outcome === null ? 'running' : s.outcome);
      txt(x, ' ');
      add(x, 'b', null, s.module);
      if (s.child_key !== null) { txt(x, ' \\u2192 '); add(x, 'kbd', null, s.child_key); }
      if (s.requested_key !== null && s.requested_key !== s.child_key) { txt(x, ' '); add(x, 'em', null, '(asked ' + str(s.requested_key) + ')'); }
      txt(x, ' ');
      add(x, 'small', null, str(s.callflow_id) + str(s.node_path));
      if (s.parent_seq !== null) { txt(x, ' '); add(x, 'em', null, 'in branch of #' + s.parent_seq); }
      txt(x, ' ');
      add(x, 'em', null, (typeof s.duration_ms === 'number' ? '[' + secs(s.duration_ms) + 's] ' : '') + str(s.reason));
      if (s.error_kind || s.error_message) { txt(x, ' '); add(x, 'span', 'er', str(s.error_kind) + ': ' + str(s.error_message)); }
      row.title = x.textContent;
      return row;
    } else if (kind === 'e') {
      r = E(i);
      row = newRow('event', tok, r.step_seq, r.at);
      add(row, 'span', 'd', 'event');
      x = add(row, 'span', 'x', r.name);
      var hs = parse(r.headers), detail = '';
      if (hs && typeof hs === 'object') {
        EVENT_DETAIL.forEach(function (k) { if (hs[k] !== undefined) detail += ' ' + k + '=' + (typeof hs[k] === 'string' ? hs[k] : JSON.stringify(hs[k])); });
      }
      if (detail) { txt(x, ' '); add(x, 'em', null, detail); }
      return row;
    } else if (kind === 'c') {
      r = C(i);
      row = newRow('command', tok, r.step_seq, r.at);
      add(row, 'span', 'd', 'command');
      x = add(row, 'span', 'x');
      add(x, 'b', null, r.app);
      var done = r.completed === null ? 'never completed'
        : (r.error_kind ? 'failed: ' + str(r.error_kind) : 'done ' + str(r.response)) + ' at +' + secs(r.completed);
      txt(x, ' ');
      add(x, 'em', null, '[' + (r.ack === null ? 'not sent' : str(r.ack)) + '; ' + done + ']');
      txt(x, ' ');
      add(x, 'small', null, clip(r.args, 140));
      return row;
    } else if (kind === 'f') {
      r = D.effects[i];
      row = newRow('effect', tok, r.step_seq, r.at);
      add(row, 'span', 'd', 'post-hangup');
      x = add(row, 'span', 'x');
      add(x, 'b', null, r.module);
      txt(x, ': ' + str(r.status));
      if (r.error_kind || r.error_message) { txt(x, ' '); add(x, 'span', 'er', str(r.error_kind) + ': ' + str(r.error_message)); }
      txt(x, ' ');
      add(x, 'small', null, clip(r.detail, 160));
      return row;
    } else if (kind === 'm') {
      r = D.messages[i];
      var atts = r.attempts_detail || [];
      if (item.att >= 0) {
        var a = atts[item.att];
        row = newRow('attempt', tok, null, null);
        wallCell(row, a.started_at);
        add(row, 'span', 'd', 'attempt ' + str(a.attempt));
        x = add(row, 'span', 'x');
        add(x, 'span', a.outcome === 'sent' ? null : 'er', a.outcome);
        if (a.code) txt(x, ' ' + str(a.code));
        if (a.detail) { txt(x, ' '); add(x, 'em', null, a.detail); }
        return row;
      }
      row = newRow('message', tok, null, r.queued_call_at);
      wallCell(row, r.created_at);
      add(row, 'span', 'd', 'message #' + str(r.id));
      x = add(row, 'span', 'x');
      txt(x, str(r.medium) + ' to ' + str(r.recipient) + ' ');
      add(x, 'em', null, 'template ' + str(r.template_id));
      txt(x, ' \\u00b7 ');
      add(x, 'b', null, r.status);
      txt(x, ' ');
      add(x, 'em', null, atts.length + ' attempt' + (atts.length === 1 ? '' : 's'));
      if (r.last_error || r.error_code) { txt(x, ' '); add(x, 'span', 'er', str(r.error_code) + ' ' + str(r.last_error)); }
      return row;
    }
    return document.createElement('div');
  }
  // The rows: one per record, a message followed by one per delivery attempt. Each row has a
  // fixed height, so the list can be laid out by arithmetic and only the rows in view drawn.
  var KINDS = { s: 'step', e: 'event', c: 'command', f: 'effect', m: 'message' };
  var ROW_H = 24, STEP_H = 46, OVERSCAN = 12;
  var items = [];
  (D.order ? D.order.split(' ') : []).forEach(function (tok) {
    var k = tok.charAt(0);
    if (!KINDS[k]) return;
    items.push({ tok: tok, kind: KINDS[k], att: -1 });
    if (k === 'm') {
      var atts = D.messages[Number(tok.slice(1))].attempts_detail || [];
      for (var a = 0; a < atts.length; a++) items.push({ tok: tok, kind: 'message', att: a });
    }
  });
  var hidden = {};
  var shown = [], tops = [], total = 0, posOf = {};
  var space = document.createElement('div');
  var rowsBox = document.createElement('div');
  rowsBox.id = 'tl-rows';
  tl.appendChild(space);
  tl.appendChild(rowsBox);
  function layout() {
    shown = []; tops = []; posOf = {}; total = 0;
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      if (hidden[it.kind]) continue;
      if (it.att < 0 && posOf[it.tok] === undefined) posOf[it.tok] = shown.length;
      shown.push(it);
      tops.push(total);
      total += it.tok.charAt(0) === 's' ? STEP_H : ROW_H;
    }
    space.style.height = total + 'px';
    tl.setAttribute('data-rows', String(shown.length));
  }
  function firstAt(y) {
    var lo = 0, hi = shown.length - 1, ans = 0;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (tops[mid] <= y) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }
  function drawRows() {
    if (!shown.length) { rowsBox.replaceChildren(); return; }
    var from = Math.max(0, firstAt(tl.scrollTop) - OVERSCAN);
    var bottom = tl.scrollTop + (tl.clientHeight || 800);
    var frag = document.createDocumentFragment();
    for (var i = from; i < shown.length && (i < from + 2 * OVERSCAN || tops[i] <= bottom + OVERSCAN * ROW_H); i++) {
      var row = buildRow(shown[i]);
      var seq = row.getAttribute('data-s');
      if (seq !== null && relSeqs[seq]) row.classList.add('rel');
      if (selectedTok !== null && shown[i].tok === selectedTok && shown[i].att < 0) row.classList.add('selected');
      frag.appendChild(row);
    }
    rowsBox.style.top = tops[from] + 'px';
    rowsBox.replaceChildren(frag);
  }
  function revealRow(tok) {
    var p = posOf[tok];
    if (p !== undefined) {
      var y = tops[p];
      if (y < tl.scrollTop || y + STEP_H > tl.scrollTop + tl.clientHeight) tl.scrollTop = Math.max(0, y - tl.clientHeight / 3);
    }
    drawRows();
  }
  var pending = false;
  tl.addEventListener('scroll', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; drawRows(); });
  });
  window.addEventListener('resize', function () { drawRows(); });
  layout();
  drawRows();

  // ---- timeline: click a row
  tl.addEventListener('click', function (ev) {
    var row = ev.target && ev.target.closest ? ev.target.closest('.r[data-r]') : null;
    if (!row) return;
    var tok = String(row.getAttribute('data-r'));
    var kind = tok.charAt(0), i = Number(tok.slice(1));
    if (kind === 's') {
      selectNode(D.sn[i], { scrollTree: true, keepTimeline: true });
    } else {
      clearSelection();
      selectedTok = tok;
      drawRows();
      show(rowView(kind, i));
    }
  });

  // ---- timeline filters
  var filters = document.querySelectorAll('input[data-filter]');
  for (var k = 0; k < filters.length; k++) {
    filters[k].addEventListener('change', function (ev) {
      var box = ev.target;
      hidden[box.getAttribute('data-filter')] = !box.checked;
      layout();
      drawRows();
    });
  }
})();
`;
