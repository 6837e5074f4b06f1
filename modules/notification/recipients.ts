import type { AccountView } from '../../engine/call/account-view.ts';
import { isE164, isSafeEmail, unique } from './addresses.ts';
import type { AddressList, NotificationData, NotificationTemplate } from './schema.ts';

export interface Resolved {
  readonly values: string[];
  /** Why entries were left out, for the step log. */
  readonly notes: string[];
}

const ids = (id: string | string[]): string[] => (Array.isArray(id) ? id : [id]).filter((x) => x.length > 0);

/**
 * The callflow's recipients for a medium, read from the account at send time (KAZOO resolves
 * when it sends): `user` gives the user's email, or for SMS the user's `mobile_number`; `email`
 * gives the address(es) as written. Invalid or missing values are left out with a note.
 */
export function resolveRecipients(data: NotificationData, account: AccountView, medium: 'email' | 'sms'): Resolved {
  const values: string[] = [];
  const notes: string[] = [];
  for (const r of data.recipients) {
    if (r.type === 'email') {
      if (medium === 'sms') {
        notes.push(`sms: email recipient ${ids(r.id).join(', ')} has no phone number: left out`);
        continue;
      }
      for (const a of ids(r.id)) {
        if (isSafeEmail(a)) values.push(a);
        else notes.push(`email: "${a}" is not a valid address: left out`);
      }
      continue;
    }
    for (const userId of ids(r.id)) {
      const user = account.user(userId);
      if (!user) {
        notes.push(`${medium}: no user "${userId}": left out`);
        continue;
      }
      const v = medium === 'email' ? user.email : user.mobile_number;
      const ok = v !== undefined && (medium === 'email' ? isSafeEmail(v) : isE164(v));
      if (ok) values.push(v);
      else notes.push(`${medium}: user ${userId} has no valid ${medium === 'email' ? 'email' : 'mobile_number'}: left out`);
    }
  }
  return { values: unique(values), notes };
}

/**
 * teletype's find_addresses for one header (to, cc, bcc): with the template's `type`
 * `specified` the template's addresses come first, with `original` (or no type) the callflow's;
 * the first source that gives any valid address wins. `admins` are the account's admin users.
 */
export function headerAddresses(list: AddressList | undefined, fromCallflow: string[] | undefined, account: AccountView): string[] {
  const template = (list?.email_addresses ?? []).filter(isSafeEmail);
  const payload = (fromCallflow ?? []).filter(isSafeEmail);
  let order: string[][];
  switch (list?.type) {
    case 'specified':
      order = [template, payload];
      break;
    case 'admins':
      order = [account.bundle.users.filter((u) => u.priv_level === 'admin').map((u) => u.email ?? '').filter(isSafeEmail), template];
      break;
    default:
      order = [payload, template];
  }
  return unique(order.find((o) => o.length > 0) ?? []);
}

export interface EmailAddresses {
  readonly to: string[];
  readonly cc: string[];
  readonly bcc: string[];
}

export function emailAddresses(template: NotificationTemplate, callflowTo: string[] | undefined, account: AccountView): EmailAddresses {
  return {
    to: headerAddresses(template.to, callflowTo, account),
    cc: headerAddresses(template.cc, undefined, account),
    bcc: headerAddresses(template.bcc, undefined, account),
  };
}
