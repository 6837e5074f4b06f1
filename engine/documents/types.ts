/** KAZOO document shapes, as far as the engine reads them. Unknown fields are kept, not rejected. */

export interface FlowNode {
  module: string;
  data: Record<string, unknown>;
  children?: Record<string, FlowNode | Record<string, never>>;
}

export interface CallflowDoc {
  id: string;
  name?: string;
  numbers: string[];
  patterns: string[];
  flow: FlowNode;
  [extra: string]: unknown;
}

/** A callflow as loaded: the document with module defaults filled in, plus where it came from. */
export interface LoadedCallflow {
  readonly doc: CallflowDoc;
  readonly file: string;
  /** Hash of the document as written (before defaults): identifies the revision in the step log. */
  readonly revision: string;
}

export interface AccountDoc {
  id: string;
  name: string;
  realm: string;
  timezone: string;
}

export interface UserDoc {
  id: string;
  first_name?: string;
  last_name?: string;
  username?: string;
  email?: string;
  /** E.164: where notification SMS to this user go. */
  mobile_number?: string;
  priv_level?: 'admin' | 'user';
  enabled?: boolean;
  vm_to_email_enabled?: boolean;
  do_not_disturb?: { enabled?: boolean };
  [extra: string]: unknown;
}

export interface DeviceDoc {
  id: string;
  name?: string;
  owner_id?: string;
  enabled?: boolean;
  do_not_disturb?: { enabled?: boolean };
  sip: { username: string; password?: string; realm?: string };
  [extra: string]: unknown;
}

export interface VmboxDoc {
  id: string;
  mailbox: string;
  owner_id?: string;
  [extra: string]: unknown;
}

export interface NotificationTemplateDoc {
  id: string;
  [extra: string]: unknown;
}

export interface AccountBundle {
  readonly file: string;
  readonly account: AccountDoc;
  readonly users: readonly UserDoc[];
  readonly devices: readonly DeviceDoc[];
  readonly vmboxes: readonly VmboxDoc[];
  readonly notificationTemplates: readonly NotificationTemplateDoc[];
  readonly callflows: readonly LoadedCallflow[];
}
