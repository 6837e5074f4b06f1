import { pathToFileURL } from 'node:url';
import { renderTraceHtml } from '../cli/html/trace-page.ts';
import type { ExecutionDetail } from '../integrations/sqlite/trace-queries.ts';
import { fmt, KB } from './format.ts';

type Row = Record<string, unknown>;

/**
 * A synthetic execution of `stepCount` steps, built in memory (no database): callflows of ten
 * nodes (notification, user nodes that are not answered, a skipped node, now and then an error)
 * whose fourth and eighth nodes branch into another such callflow, depth first, so the call walks
 * a tree of about a thousand branched-into callflows nested up to nine deep. Each user step has
 * its bridge command and three channel events; the call ends with a hangup, a post-hangup effect
 * and an email delivered at the second attempt. Values carry markup, as hostile callers would.
 */
export function syntheticExecution(stepCount = 10_000): ExecutionDetail {
  const start = Date.UTC(2026, 0, 5, 14, 0, 0);
  const wallStart = start + 1_000_000;
  const steps: Row[] = [];
  const events: Row[] = [];
  const commands: Row[] = [];
  const effects: Row[] = [];
  let ord = 0;
  let now = start;
  const uuid = 'c0ffee00-0000-4000-8000-000000000001';
  let cfCounter = 0;

  const step = (s: Row): Row => {
    const row: Row = {
      execution_seq: 1,
      seq: steps.length + 1,
      ord: ++ord,
      error_kind: null,
      error_message: null,
      requested_key: null,
      child_key: null,
      notes: '[]',
      started_at: now,
      ended_at: now,
      duration_ms: 0,
      ...s,
    };
    steps.push(row);
    return row;
  };

  const run = (callflowId: string, parentSeq: number | null, depth: number): void => {
    let path = '/flow';
    for (let k = 0; k < 10 && steps.length < stepCount; k++) {
      const base = { parent_seq: parentSeq, callflow_id: callflowId, node_path: path };
      const branches = (k === 3 || k === 7) && depth < 9;
      let key = '_';
      if (branches) {
        const sub = `cf-${++cfCounter}`;
        const row = step({
          ...base,
          module: 'callflow',
          data: JSON.stringify({ id: sub }),
          outcome: 'branch',
          reason: `branch to ${sub}/flow, returning to "_" after`,
        });
        run(sub, row.seq as number, depth + 1);
      } else if (k === 0) {
        step({
          ...base,
          module: 'notification',
          data: JSON.stringify({ template_id: 'missed_call', send_at: 'channel_destroy', recipients: [{ type: 'user', id: 'user-alice' }], comments: '<b>front desk</b>' }),
          outcome: 'continue',
          requested_key: '_',
          child_key: '_',
          reason: 'notification will be sent once the channel is destroyed; child "_"',
          notes: JSON.stringify(['registered post-hangup handler notification:{"template_id":"missed_call"}']),
        });
      } else if (k === 5) {
        step({ ...base, module: 'user', data: JSON.stringify({ id: 'user-bob', skip_module: true }), outcome: 'skipped', requested_key: '_', child_key: '_', reason: 'skip_module is set; child "_"' });
      } else {
        key = 'NO_ANSWER';
        const timeout = 2 + (k % 3);
        const failed = steps.length % 97 === 0;
        const row = step({
          ...base,
          module: 'user',
          data: JSON.stringify({ id: `user-${k}`, timeout, strategy: 'simultaneous', delay: 0, can_call_self: false, note: '</script><script>alert(1)</script>' }),
          outcome: failed ? 'error' : 'attempt',
          requested_key: 'NO_ANSWER,sip:480',
          child_key: 'NO_ANSWER',
          reason: failed ? 'module failed; child "NO_ANSWER"' : 'bridge failed: NO_ANSWER (sip:480); child "NO_ANSWER"',
          error_kind: failed ? 'command_timeout' : null,
          error_message: failed ? 'bridge <not> acknowledged within 5000 ms' : null,
          notes: JSON.stringify([`ringing dev-${k}-desk, dev-${k}-soft (simultaneous, timeout ${timeout}s, delay 0s)`]),
        });
        const seq = row.seq as number;
        const app = `a0000000-0000-4000-8000-${String(seq).padStart(12, '0')}`;
        commands.push({
          execution_seq: 1, ord: ++ord, at: now, step_seq: seq, uuid, app: 'bridge',
          args: JSON.stringify({ endpoints: [{ deviceId: `dev-${k}-desk`, username: `u${k}`, realm: 'example.sip.local', timeoutSeconds: timeout }], strategy: 'simultaneous', timeoutSeconds: timeout }),
          application_uuid: app, ack: '+OK', completed_at: now + timeout * 1000, response: '_none_', error_kind: null,
        });
        events.push({ execution_seq: 1, ord: ++ord, at: now, step_seq: seq, uuid, name: 'CHANNEL_EXECUTE', headers: JSON.stringify({ 'Event-Name': 'CHANNEL_EXECUTE', 'Unique-ID': uuid, Application: 'bridge', 'Application-UUID': app }) });
        events.push({ execution_seq: 1, ord: ++ord, at: now, step_seq: seq, uuid, name: 'CHANNEL_PROGRESS', headers: JSON.stringify({ 'Event-Name': 'CHANNEL_PROGRESS', 'Unique-ID': uuid, 'Answer-State': 'ringing' }) });
        now += timeout * 1000;
        row.ended_at = now;
        row.duration_ms = timeout * 1000;
        events.push({
          execution_seq: 1, ord: ++ord, at: now, step_seq: seq, uuid, name: 'CHANNEL_EXECUTE_COMPLETE',
          headers: JSON.stringify({ 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': uuid, Application: 'bridge', 'Application-UUID': app, 'Application-Response': '_none_', variable_originate_disposition: 'NO_ANSWER' }),
        });
      }
      path += `/children/${key}`;
    }
  };
  run('cf-root', null, 0);

  commands.push({ execution_seq: 1, ord: ++ord, at: now, step_seq: null, uuid, app: 'hangup', args: '{"cause":"NORMAL_CLEARING"}', application_uuid: 'h', ack: '+OK', completed_at: now, response: 'NORMAL_CLEARING', error_kind: null });
  for (const name of ['CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_DESTROY']) {
    events.push({ execution_seq: 1, ord: ++ord, at: now, step_seq: null, uuid, name, headers: JSON.stringify({ 'Event-Name': name, 'Unique-ID': uuid, 'Hangup-Cause': 'NORMAL_CLEARING' }) });
  }
  effects.push({ execution_seq: 1, ord: ++ord, at: now, step_seq: null, handler_key: 'notification:{"template_id":"missed_call"}', module: 'notification', status: 'ok', detail: '{"queued":[1],"duplicates":0,"notes":[]}', error_kind: null, error_message: null });
  const messages = [
    {
      id: 1, execution_id: 'synthetic', node_key: 'notification:{"template_id":"missed_call"}', medium: 'email', recipient: 'alice@example.test', template_id: 'missed_call',
      message: JSON.stringify({ subject: 'Call from <script>x</script>', text: 'hello' }), status: 'sent', attempts: 2, queued_call_at: now,
      created_at: wallStart + 50, sent_at: wallStart + 1_090, provider_id: '<abc@example.test>', last_error: null, error_code: null,
      attempts_detail: [
        { outbox_id: 1, attempt: 1, started_at: wallStart + 60, ended_at: wallStart + 70, outcome: 'temporary_failure', code: '451', detail: 'try again <later>' },
        { outbox_id: 1, attempt: 2, started_at: wallStart + 1_080, ended_at: wallStart + 1_090, outcome: 'sent', code: '250', detail: 'queued as 12345' },
      ],
    },
  ];
  return {
    execution: {
      seq: 1, id: '5e7a1c00-0000-4000-8000-000000010000', source: 'synthetic', scenario: `${fmt(stepCount)} steps <i>synthetic</i>`, account_id: 'acc-bench', call_id: uuid,
      caller_number: '+14155550100', caller_name: '<script>alert("caller")</script>', callee_number: '2000', callflow_id: 'cf-root', callflow_name: 'Bench <root>',
      callflow_revision: 'feedfacefeedface', route_by: 'number', route_pattern: null, capture_group: null, started_at: start, ended_at: now,
      wall_started_at: wallStart, wall_ended_at: wallStart + 2_000, status: 'completed', end_reason: 'callflow_finished', hangup_by: 'engine',
      hangup_cause: 'NORMAL_CLEARING', hangup_code: 'sip:200', disposition: 'send_refuse', answered: 0, call_bridged: 0, message_left: 0,
      duration_ms: now - start, error: null,
    },
    steps, events, commands, effects, messages,
  };
}

/** Builds the synthetic execution, then times rendering its page (the first render: no warm-up). */
export function benchHtml(stepCount = 10_000): { steps: number; ms: number; bytes: number; html: string } {
  const detail = syntheticExecution(stepCount);
  const t0 = performance.now();
  const html = renderTraceHtml(detail);
  const ms = performance.now() - t0;
  return { steps: detail.steps.length, ms, bytes: Buffer.byteLength(html), html };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = benchHtml(10_000);
  console.log(`html trace: ${fmt(r.steps)} steps rendered in ${fmt(r.ms)} ms (${fmt(r.bytes / KB)} KB)`);
}
