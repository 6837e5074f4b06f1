import type { CallControl } from '../../engine/call/call-control.ts';
import { next, type Next } from '../../engine/executor/next.ts';
import type { CallflowModule } from '../../engine/module.ts';
import { userEndpoints } from './endpoints.ts';
import { userSchema, type UserData } from './schema.ts';

/**
 * KAZOO's cf_user: ring the user's devices. Answered: the call is over (stop). Failed: the
 * child named by the hangup cause, then by the SIP code ("sip:600" when the switch gave none),
 * then "_". No device to ring: "_" at once.
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
    const headers = data.custom_sip_headers;
    const outcome = await call.bridge(endpoints, {
      timeoutSeconds: data.timeout,
      strategy: data.strategy,
      ignoreEarlyMedia: data.strategy === 'simultaneous',
      ...(data.fail_on_single_reject === true ? { failOnSingleReject: true as const } : {}),
      ...(headers && Object.keys(headers).length > 0 ? { customSipHeaders: headers } : {}),
    });
    switch (outcome.result) {
      case 'answered':
        return next.stop(undefined, 'bridge answered');
      case 'failed': {
        // KAZOO's get_call_termination_reason: a failure without a SIP code reads "sip:600".
        const code = outcome.sipCode ?? 'sip:600';
        return next.attempt([outcome.cause, code], `bridge failed: ${outcome.cause} (${code}${outcome.sipCode ? '' : ', no SIP code'})`);
      }
      case 'error':
        return next.continue('_', `bridge error: ${outcome.reason}`);
    }
  },
};
