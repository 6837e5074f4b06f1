import type { CallControl } from '../../engine/call/call-control.ts';
import type { FlowRef } from '../../engine/executor/next.ts';
import type { VoicemailData, Vmbox } from './schema.ts';
import { VOICEMAIL_DEFAULTS } from './settings.ts';

/** Account boxes are validated against vmboxSchema (defaults filled) when the account loads. */
export const boxById = (call: CallControl, id: string): Vmbox | undefined => call.account.vmbox(id) as Vmbox | undefined;

const allBoxes = (call: CallControl): readonly Vmbox[] => call.account.bundle.vmboxes as unknown as readonly Vmbox[];

export const boxByNumber = (call: CallControl, mailbox: string): Vmbox | undefined =>
  allBoxes(call).find((b) => b.mailbox === mailbox);

export const boxesOwnedBy = (call: CallControl, ownerId: string): Vmbox[] =>
  allBoxes(call).filter((b) => b.owner_id === ownerId);

/** The caller is the box's owner (known by the calling device's owner). */
export const callerOwns = (call: CallControl, box: Vmbox): boolean => call.info.ownerId !== undefined && call.info.ownerId === box.owner_id;

/**
 * KAZOO's get_user_mailbox_doc: among the boxes the caller's owner has, the only one when
 * single_mailbox_login is on, else (callerid_match_login) the one whose number is the caller
 * id. A caller with no owner, or no such box, must say which box.
 */
export function callersOwnBox(data: VoicemailData, call: CallControl): Vmbox | undefined {
  if (!call.info.ownerId) return undefined;
  const own = boxesOwnedBy(call, call.info.ownerId);
  if (own.length === 1 && data.single_mailbox_login) return own[0];
  return data.callerid_match_login ? own.find((b) => b.mailbox === call.info.callerNumber) : undefined;
}

/** The box a voicemail node names: its id, else the capture group as a box number, else the caller's own box. */
export function nodeBox(data: VoicemailData, call: CallControl): Vmbox | undefined {
  if (data.id) return boxById(call, data.id);
  if (call.info.captureGroup) return boxByNumber(call, call.info.captureGroup);
  return callersOwnBox(data, call);
}

/** KAZOO's find_max_message_length: the first value above 0 of the callflow data, the box, the system. */
export const maxMessageSeconds = (data: VoicemailData, box: Vmbox): number =>
  [data.max_message_length, box.max_message_length].find((v) => v !== undefined && v > 0) ?? VOICEMAIL_DEFAULTS.maxMessageLengthS;

/** The box's interdigit_timeout wins over the callflow data's (kz_json:find([Box, Data])). */
export const interdigitMs = (data: VoicemailData, box: Vmbox | undefined): number =>
  box?.interdigit_timeout ?? data.interdigit_timeout ?? VOICEMAIL_DEFAULTS.interdigitMs;

export const maxMessages = (box: Vmbox): number => box.max_message_count ?? VOICEMAIL_DEFAULTS.maxMessageCount;

/** The operator key's target: the box's operator_number, else the account's "0" callflow. */
export function operatorFlow(call: CallControl, box: Vmbox): FlowRef | undefined {
  const number = box.operator_number ?? '0';
  const cf = call.account.bundle.callflows.find((c) => c.doc.numbers.includes(number));
  return cf ? { node: cf.doc.flow, callflowId: cf.doc.id, path: '/flow' } : undefined;
}
