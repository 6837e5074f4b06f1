import { describe, expect, it } from 'vitest';
import { AccountView } from '../engine/call/account-view.ts';
import { callingDevice } from '../integrations/live/live-engine.ts';

const account = new AccountView({
  file: 'a.json',
  account: { id: 'acc', name: 'A', realm: 'pbx.test', timezone: 'UTC' },
  users: [],
  devices: [
    { id: 'dev-alice', owner_id: 'alice', sip: { username: 'alice-desk' } },
    { id: 'dev-other-realm', sip: { username: 'bob', realm: 'other.test' } },
  ],
  vmboxes: [],
  notificationTemplates: [],
  callflows: [],
});

describe('the device a live call comes from', () => {
  it('only a caller FreeSWITCH authenticated; a From header alone names no device', () => {
    expect(callingDevice(account, { sip_from_user: 'alice-desk', sip_from_host: 'pbx.test' })).toBeUndefined();
    expect(callingDevice(account, { sip_authorized: 'false', sip_auth_username: 'alice-desk' })).toBeUndefined();
    expect(callingDevice(account, { sip_authorized: 'true', sip_auth_username: 'alice-desk', sip_auth_realm: 'pbx.test', sip_from_user: 'x' })).toBe('dev-alice');
    // the device's own realm must match the one it authenticated in
    expect(callingDevice(account, { sip_authorized: 'true', sip_auth_username: 'bob', sip_auth_realm: 'pbx.test' })).toBeUndefined();
    expect(callingDevice(account, { sip_authorized: 'true', sip_auth_username: 'bob', sip_auth_realm: 'other.test' })).toBe('dev-other-realm');
  });
});
