import type { AccountBundle, DeviceDoc, LoadedCallflow, UserDoc, VmboxDoc } from '../documents/types.ts';

/** Read-only lookups into the account's documents, indexed once per bundle. */
export class AccountView {
  private readonly users = new Map<string, UserDoc>();
  private readonly devices = new Map<string, DeviceDoc>();
  private readonly owned = new Map<string, DeviceDoc[]>();
  private readonly callflows = new Map<string, LoadedCallflow>();
  private readonly vmboxes = new Map<string, VmboxDoc>();

  constructor(readonly bundle: AccountBundle) {
    for (const u of bundle.users) this.users.set(u.id, u);
    for (const d of bundle.devices) {
      this.devices.set(d.id, d);
      if (d.owner_id) {
        const list = this.owned.get(d.owner_id) ?? [];
        list.push(d);
        this.owned.set(d.owner_id, list);
      }
    }
    for (const c of bundle.callflows) this.callflows.set(c.doc.id, c);
    for (const v of bundle.vmboxes) this.vmboxes.set(v.id, v);
  }

  get id(): string {
    return this.bundle.account.id;
  }
  get realm(): string {
    return this.bundle.account.realm;
  }
  get timezone(): string {
    return this.bundle.account.timezone;
  }
  user(id: string): UserDoc | undefined {
    return this.users.get(id);
  }
  device(id: string): DeviceDoc | undefined {
    return this.devices.get(id);
  }
  /** The user's devices in document order (KAZOO's owned_by view order). */
  devicesOwnedBy(userId: string): readonly DeviceDoc[] {
    return this.owned.get(userId) ?? [];
  }
  callflow(id: string): LoadedCallflow | undefined {
    return this.callflows.get(id);
  }
  vmbox(id: string): VmboxDoc | undefined {
    return this.vmboxes.get(id);
  }
}
