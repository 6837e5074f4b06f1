import type { CallControl } from '../../engine/call/call-control.ts';
import { next, type Next } from '../../engine/executor/next.ts';
import type { CallflowModule } from '../../engine/module.ts';
import { userEndpoints } from './endpoints.ts';
import { userSchema, type UserData } from './schema.ts';

/**
 * KAZOO's cf_user: ring the user's devices. Answered: the call is over (stop). Failed: the
 * child named by the hangup cause, then by the SIP code, then "_". No device to ring: "_" at once.
 */
export const userModule: CallflowModule<UserData> = {
  name: 'user',
  summary: "ring a user's devices; on failure branch by hangup cause or SIP code",
  schema: userSchema,
  async handle(data: UserData, call: CallControl): Promise<Next> {
    const { endpoints, skipped } = userEndpoints(data, call.info, call.account);
    for (const s of skipped) call.note(`skipped ${s}`);
    if (endpoints.length === 0) return next.continue('_', 'no endpoints to ring');
    call.note(`ringing ${endpoints.map((e) => e.deviceId).join(', ')} (${data.strategy}, timeout ${data.timeout}s, delay ${data.delay}s)`);
    const outcome = await call.bridge(endpoints, {
      timeoutSeconds: data.timeout,
      strategy: data.strategy,
      ignoreEarlyMedia: data.strategy === 'simultaneous',
    });
    switch (outcome.result) {
      case 'answered':
        return next.stop(undefined, 'bridge answered');
      case 'failed':
        return next.attempt(
          outcome.sipCode ? [outcome.cause, outcome.sipCode] : [outcome.cause],
          `bridge failed: ${outcome.cause}${outcome.sipCode ? ` (${outcome.sipCode})` : ''}`,
        );
      case 'error':
        return next.continue('_', `bridge error: ${outcome.reason}`);
    }
  },
};
