import type { AccountView } from '../../engine/call/account-view.ts';
import type { CallInfo } from '../../engine/call/call-control.ts';
import type { BridgeEndpoint } from '../../engine/switch.ts';
import type { UserData } from './schema.ts';

export interface EndpointBuild {
  readonly endpoints: BridgeEndpoint[];
  /** Why each left-out device was left out, for the step log. */
  readonly skipped: string[];
}

/**
 * KAZOO's kz_endpoint_v4 for a user: one endpoint per owned device, in document order, leaving
 * out disabled and do-not-disturb devices and, unless `can_call_self`, the caller's own.
 */
export function userEndpoints(data: UserData, info: CallInfo, account: AccountView): EndpointBuild {
  const skipped: string[] = [];
  if (!data.id) return { endpoints: [], skipped: ['no user id'] };
  const user = account.user(data.id);
  if (!user) return { endpoints: [], skipped: [`no user "${data.id}"`] };
  if (user.enabled === false) return { endpoints: [], skipped: [`user ${user.id} is disabled`] };
  const endpoints: BridgeEndpoint[] = [];
  for (const d of account.devicesOwnedBy(user.id)) {
    if (!data.can_call_self && info.ownerId !== undefined && d.owner_id === info.ownerId) {
      skipped.push(`${d.id}: owner called self`);
    } else if (!data.can_call_self && info.authorizingId === d.id) {
      skipped.push(`${d.id}: endpoint called self`);
    } else if (d.enabled === false) {
      skipped.push(`${d.id}: disabled`);
    } else if (d.do_not_disturb?.enabled === true || user.do_not_disturb?.enabled === true) {
      skipped.push(`${d.id}: do not disturb`);
    } else {
      endpoints.push({
        deviceId: d.id,
        ...(d.owner_id ? { ownerId: d.owner_id } : {}),
        username: d.sip.username,
        realm: d.sip.realm ?? account.realm,
        delaySeconds: data.delay,
        timeoutSeconds: data.timeout,
      });
    }
  }
  return { endpoints, skipped };
}
