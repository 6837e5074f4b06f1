import type { ExecutionDetail, ExecutionRecord, TimelineRow } from '../integrations/sqlite/trace-queries.ts';
import { timeline } from '../integrations/sqlite/trace-queries.ts';

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)}s`;
const rel = (at: number, start: number): string => `+${seconds(at - start)}`.padStart(10);

export { printable, printableLines } from '../engine/text.ts';
import { printable } from '../engine/text.ts';

// Every header and summary line is masked whole: besides the caller's values, the callflow id is
// a document's and the hangup cause and code are the switch's.
export function summaryLine(e: ExecutionRecord): string {
  const hangup = e.hangup_cause ? `${e.hangup_cause} by ${e.hangup_by ?? '?'}` : 'no hangup seen';
  const dur = e.duration_ms === null ? '-' : seconds(e.duration_ms);
  return printable([e.id, e.scenario ?? e.callflow_id ?? '-', `${e.status}/${e.end_reason ?? '-'}`, hangup, dur].join('  '));
}

function headerLines(e: ExecutionRecord): string[] {
  const lines = [
    `execution ${e.id}  (${e.source}${e.scenario ? `: ${e.scenario}` : ''})`,
    `callflow  ${e.callflow_id ?? '(none)'}${e.callflow_name ? ` "${e.callflow_name}"` : ''}` +
      `${e.callflow_revision ? `  rev ${e.callflow_revision}` : ''}  routed by ${e.route_by ?? '-'}` +
      `${e.route_pattern ? ` ${e.route_pattern}` : ''}${e.capture_group ? ` capture "${e.capture_group}"` : ''}`,
    `call      ${e.caller_name} <${e.caller_number}> → ${e.callee_number}  ` +
      `started ${new Date(e.started_at).toISOString()}`,
    `result    ${e.status} (${e.end_reason ?? '-'})  hangup ${e.hangup_cause ?? '-'}${e.hangup_code ? ` ${e.hangup_code}` : ''}` +
      ` by ${e.hangup_by ?? '-'}  duration ${e.duration_ms === null ? '-' : seconds(e.duration_ms)}` +
      `  answered ${e.answered ? 'yes' : 'no'}  bridged ${e.call_bridged ? 'yes' : 'no'}  message left ${e.message_left ? 'yes' : 'no'}`,
  ];
  if (e.error) lines.push(`error     ${e.error}`);
  return lines.map(printable);
}

function stepLine(r: Record<string, unknown>, start: number): string[] {
  const took = r.ended_at === null ? 'still running' : seconds((r.ended_at as number) - (r.started_at as number));
  const taken = r.child_key === null ? '' : ` → "${printable(r.child_key)}"`;
  const lines = [
    `${rel(r.started_at as number, start)}  step ${r.seq}${r.parent_seq ? ` (in branch of ${r.parent_seq})` : ''}  ` +
      `${printable(r.module)}  ${printable(r.callflow_id)}${printable(r.node_path)}`,
    `${' '.repeat(12)}${printable(r.outcome)}${r.requested_key ? ` ${printable(r.requested_key)}` : ''}${taken}  [${took}]  ${printable(r.reason)}`,
  ];
  if (r.error_kind) lines.push(`${' '.repeat(12)}error ${printable(r.error_kind)}: ${printable(r.error_message)}`);
  for (const n of JSON.parse(String(r.notes ?? '[]')) as string[]) lines.push(`${' '.repeat(12)}· ${printable(n)}`);
  return lines;
}

function rowLines(t: TimelineRow, start: number): string[] {
  const r = t.row;
  switch (t.kind) {
    case 'step':
      return stepLine(r, start);
    case 'event': {
      const h = JSON.parse(String(r.headers)) as Record<string, string>;
      const detail = ['Application', 'Application-Response', 'Hangup-Cause', 'variable_sip_hangup_disposition', 'DTMF-Digit', 'Other-Leg-Unique-ID', 'variable_originate_disposition', 'variable_record_ms']
        .filter((k) => h[k] !== undefined)
        .map((k) => `${k}=${printable(h[k])}`)
        .join(' ');
      return [`${rel(t.at, start)}      ← ${printable(r.name)}${detail ? `  ${detail}` : ''}`];
    }
    case 'command': {
      const done =
        r.completed_at === null
          ? 'never completed'
          : `${r.error_kind ? `failed: ${printable(r.error_kind)}` : `done ${printable(r.response)}`} at ${rel(r.completed_at as number, start).trim()}`;
      return [`${rel(t.at, start)}      → ${printable(r.app)} ${printable(r.args)}  [${printable(r.ack ?? 'not sent')}; ${done}]`];
    }
    case 'effect':
      return [
        `${rel(t.at, start)}  post-hangup ${printable(r.handler_key)}: ${printable(r.status)}` +
          `${r.error_kind ? ` (${printable(r.error_kind)}: ${printable(r.error_message)})` : ''}  ${printable(r.detail)}`,
      ];
  }
}

function messageLines(d: ExecutionDetail): string[] {
  if (d.messages.length === 0) return [];
  const lines = ['', 'messages (outbox; attempt times are wall-clock)'];
  for (const m of d.messages) {
    lines.push(
      `  #${m.id} ${printable(m.medium)} to ${printable(m.recipient)}  template ${printable(m.template_id)}  ${printable(m.status)}` +
        `  queued at +${seconds((m.queued_call_at as number) - d.execution.started_at)}`,
    );
    for (const a of m.attempts_detail) {
      lines.push(
        `      attempt ${a.attempt} ${new Date(a.started_at as number).toISOString()}: ${printable(a.outcome)}` +
          `${a.code ? ` ${printable(a.code)}` : ''}${a.detail ? `  ${printable(a.detail)}` : ''}`,
      );
    }
  }
  return lines;
}

/** The readable timeline `callflow trace show` prints. */
export function renderTrace(d: ExecutionDetail): string {
  const start = d.execution.started_at;
  return [...headerLines(d.execution), '', ...timeline(d).flatMap((t) => rowLines(t, start)), ...messageLines(d)].join('\n');
}
