import type { CallControl } from '../../engine/call/call-control.ts';
import { next, type Next } from '../../engine/executor/next.ts';
import type { CallflowModule } from '../../engine/module.ts';

export const callflowSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, description: 'the callflow to branch into' },
    skip_module: { type: 'boolean' },
  },
} as const;

/** KAZOO's cf_callflow: branch into another callflow of the account; an unknown id continues. */
export const callflowModule: CallflowModule<{ id: string }> = {
  name: 'callflow',
  summary: 'branch into another callflow by id, returning to "_" when it stops',
  schema: callflowSchema,
  async handle(data: { id: string }, call: CallControl): Promise<Next> {
    const target = call.account.callflow(data.id);
    if (!target) return next.continue('_', `no callflow "${data.id}"`);
    return next.branch({ node: target.doc.flow, callflowId: target.doc.id, path: '/flow' });
  },
};
