import type { CallControl, FinalCallState } from '../../engine/call/call-control.ts';
import { handlerKey } from '../../engine/call/post-hangup.ts';
import { next, type Next } from '../../engine/executor/next.ts';
import type { CallflowModule } from '../../engine/module.ts';
import { EngineError } from '../../engine/errors.ts';
import { compose } from './compose.ts';
import { TemplateRenderer, type TemplateError } from './renderer.ts';
import { notificationSchema, templateSchema, type NotificationData } from './schema.ts';

/** What one send did, for the step log. */
interface SendReport extends Record<string, unknown> {
  queued: number[];
  duplicates: number;
  notes: string[];
}

/**
 * Some medium's template did not render: a post-hangup send fails, naming what was queued anyway
 * and keeping the send's notes (recipients left out), which a failed effect has no other place for.
 */
class NotificationTemplateError extends EngineError {
  readonly kind = 'template_invalid';
  constructor(failures: readonly TemplateError[], report: SendReport) {
    const { queued } = report;
    const sent = queued.length > 0 ? [`the other medium was queued (outbox ${queued.map((id) => `#${id}`).join(', ')})`] : [];
    const failed = new Set(failures.map((f) => f.message));
    // The failures are among the notes too ("<medium>: not sent: ..."): name each once.
    const notes = report.notes.filter((n) => ![...failed].some((m) => n.includes(m)));
    super([...failures.map((f) => f.message), ...sent, ...notes].join('; '));
    this.name = 'NotificationTemplateError';
  }
}

/**
 * KAZOO's cf_notification, delivered: renders an account template with the call's data and
 * hands one message per recipient and medium to the durable outbox. `callflow_exec` sends as
 * the node runs; `channel_destroy` sends once the call is over, with its final state. The node
 * never waits and always continues to "_".
 */
export function notificationModule(renderer = new TemplateRenderer()): CallflowModule<NotificationData> {
  const send = (
    data: NotificationData,
    call: CallControl,
    state: FinalCallState,
    nodeKey: string,
  ): { report: SendReport; failures: TemplateError[] } => {
    const { messages, notes, failures } = compose({
      data,
      state,
      account: call.account,
      executionId: call.executionId,
      nodeKey,
      sentAt: call.now(),
      renderer,
    });
    const receipts = messages.length > 0 ? call.sendMessages(messages) : [];
    const report = {
      queued: receipts.filter((r) => !r.duplicate).map((r) => r.id),
      duplicates: receipts.filter((r) => r.duplicate).length,
      notes,
    };
    return { report, failures };
  };

  return {
    name: 'notification',
    summary: 'send an account template by email and/or SMS, now or once the call is over',
    schema: notificationSchema,
    documents: { notification_templates: templateSchema },
    async handle(data: NotificationData, call: CallControl): Promise<Next> {
      if (!data.template_id) return next.continue('_', 'no template_id: nothing is sent');
      const nodeKey = handlerKey('notification', data);
      if (data.send_at === 'callflow_exec') {
        try {
          const { report: r } = send(data, call, call.currentState(), nodeKey);
          // A medium whose template did not render is among the notes, as "<medium>: not sent: ...".
          for (const n of r.notes) call.note(n);
          call.note(`queued ${r.queued.length} message(s) now${r.duplicates ? `, ${r.duplicates} already queued by an identical node` : ''}`);
        } catch (err) {
          // A bad template or a missing outbox fails this send, never the call.
          call.note(`not sent: ${(err as Error).message}`);
        }
        return next.continue('_', 'notification sent at callflow_exec');
      }
      call.onHangup({
        key: nodeKey,
        module: 'notification',
        run: async (final) => {
          const { report, failures } = send(data, call, final, nodeKey);
          if (failures.length > 0) throw new NotificationTemplateError(failures, report);
          return report;
        },
      });
      return next.continue('_', 'notification will be sent once the channel is destroyed');
    },
  };
}
