import { AccountView } from '../../engine/call/account-view.ts';
import { hangupInfo, type FinalCallState } from '../../engine/call/call-control.ts';
import { loadAccountBundle } from '../../engine/documents/load.ts';
import { SchemaValidator } from '../../engine/documents/validator.ts';
import { UsageError } from '../../engine/errors.ts';
import { createRegistry } from '../../modules/index.ts';
import { buildMacros } from '../../modules/notification/macros.ts';
import { TemplateError, TemplateRenderer } from '../../modules/notification/renderer.ts';
import type { NotificationTemplate } from '../../modules/notification/schema.ts';
import { findExecution, type ExecutionRecord } from '../../integrations/sqlite/trace-queries.ts';
import { openStepLog, type Command } from '../command.ts';
import { printableLines } from '../render-trace.ts';

/** A recorded call, as a notification sent after it would have seen it. */
export function recordedState(e: ExecutionRecord): FinalCallState {
  return {
    info: { callId: e.call_id, callerNumber: e.caller_number, callerName: e.caller_name, calleeNumber: e.callee_number, captureGroups: {} },
    accountId: e.account_id,
    startedAt: e.started_at,
    answeredAt: null,
    endedAt: e.ended_at ?? e.started_at,
    durationMs: e.duration_ms ?? 0,
    answered: e.answered === 1,
    callBridged: e.call_bridged === 1,
    messageLeft: e.message_left === 1,
    hangupBy: e.hangup_by as FinalCallState['hangupBy'],
    // hangup_by is set exactly when the channel was seen to end, as the live call's hangup_info is.
    ...(e.hangup_by !== null ? { hangup: hangupInfo(e.disposition, e.hangup_cause, e.hangup_code) } : {}),
    variables: {},
  };
}

export const templatePreviewCommand: Command = {
  name: 'template preview',
  usage: 'callflow template preview <template-id> --execution <id> [--account FILE] [--db FILE] [--comments TEXT]',
  summary: "render a notification template with a recorded call's data",
  help: `Renders the account's template (subject, text, HTML and SMS bodies) with the macros a
channel_destroy notification of that execution would have had. --account is the account bundle
holding the template (default $CALLFLOW_ACCOUNT). A template error is one line, exit 1.`,
  options: { execution: { type: 'string' }, account: { type: 'string' }, db: { type: 'string' }, comments: { type: 'string' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('template preview: give one template id');
    const execId = values.execution as string | undefined;
    if (!execId) throw new UsageError('template preview: --execution is required');
    const accountFile = (values.account as string | undefined) ?? io.env.CALLFLOW_ACCOUNT;
    if (!accountFile) throw new UsageError('template preview: --account is required (or set CALLFLOW_ACCOUNT)');
    const loaded = loadAccountBundle(accountFile, { registry: createRegistry(), validator: new SchemaValidator() });
    if (!loaded.ok) {
      for (const e of loaded.errors) io.err(e.message);
      return 1;
    }
    const account = new AccountView(loaded.value);
    const template = loaded.value.notificationTemplates.find((t) => t.id === positionals[0]) as NotificationTemplate | undefined;
    if (!template) {
      io.err(`template preview: no template "${positionals[0]}" in ${accountFile}`);
      return 1;
    }
    const db = openStepLog(values, io.env, { readonly: true });
    const found = findExecution(db, execId);
    db.close();
    if (!found.ok) {
      io.err(`template preview: ${found.problem}`);
      return 1;
    }
    const state = recordedState(found.execution);
    const comments = values.comments as string | undefined;
    const data = { recipients: [], send_at: 'channel_destroy' as const, template_id: template.id, ...(comments ? { comments } : {}) };
    const macros = buildMacros(state, account, data, undefined, state.endedAt);
    const renderer = new TemplateRenderer();
    // As the send at channel_destroy would: "now" is the end of the recorded call.
    const time = { now: state.endedAt, timezone: account.timezone };
    try {
      const out = [`subject: ${renderer.render(template.id, 'subject', template.subject, macros, 'text', time).replace(/[\r\n]+/g, ' ')}`];
      if (template.text !== undefined) out.push('', '--- text', renderer.render(template.id, 'text', template.text, macros, 'text', time));
      if (template.html !== undefined) out.push('', '--- html', renderer.render(template.id, 'html', template.html, macros, 'html', time));
      if (template.sms) out.push('', '--- sms', renderer.render(template.id, 'sms.body', template.sms.body, macros, 'text', time));
      io.out(printableLines(out.join('\n')));
      return 0;
    } catch (err) {
      if (err instanceof TemplateError) {
        io.err(err.message);
        return 1;
      }
      throw err;
    }
  },
};
