import type { CallControl } from '../../engine/call/call-control.ts';
import type { Next } from '../../engine/executor/next.ts';
import type { CallflowModule } from '../../engine/module.ts';
import { TemplateRenderer } from '../notification/renderer.ts';
import { check } from './check.ts';
import { compose } from './compose.ts';
import { vmboxSchema, voicemailSchema, type VoicemailData } from './schema.ts';

/**
 * KAZOO's cf_voicemail: `compose` takes a message for a box (greeting, beep, record, review),
 * stores it with its audio, emails it (voicemail_to_email) and updates message waiting;
 * `check` lets a caller log in and listen to, keep or delete messages.
 */
export function voicemailModule(renderer = new TemplateRenderer()): CallflowModule<VoicemailData> {
  return {
    name: 'voicemail',
    summary: 'leave a message in a voicemail box (compose) or listen to one (check)',
    schema: voicemailSchema,
    documents: { vmboxes: vmboxSchema },
    async handle(data: VoicemailData, call: CallControl): Promise<Next> {
      if (data.action === 'check') return check(data, call);
      const r = await compose(data, call, renderer);
      if (r.kind !== 'to_check') return r;
      call.note(`check mode: ${r.why}`);
      return check(data, call, r.box);
    },
  };
}
