/** switch_call_cause_t values of the causes the peer produces (continue_on_fail lists may use the numbers). */
const CAUSE_CODES: Readonly<Record<string, number>> = {
  UNALLOCATED_NUMBER: 1,
  NO_ROUTE_DESTINATION: 3,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  SUBSCRIBER_ABSENT: 20,
  CALL_REJECTED: 21,
  DESTINATION_OUT_OF_ORDER: 27,
  NORMAL_TEMPORARY_FAILURE: 41,
  ORIGINATOR_CANCEL: 487,
  LOSE_RACE: 502,
  ALLOTTED_TIMEOUT: 602,
  USER_NOT_REGISTERED: 606,
};

/** switch_channel_str2cause for the causes above; anything else is NORMAL_CLEARING, as a hangup with no usable cause is. */
export function causeName(text: string | undefined): string {
  const t = (text ?? '').trim().toUpperCase();
  if (t in CAUSE_CODES) return t;
  const byNumber = Object.entries(CAUSE_CODES).find(([, n]) => String(n) === t);
  return byNumber ? byNumber[0] : 'NORMAL_CLEARING';
}

export function causeCode(name: string): number {
  return CAUSE_CODES[name] ?? 16;
}

/** switch_channel_cause_q850: causes above 127 are FreeSWITCH's own and report as normal clearing. */
export function q850(name: string): number {
  const n = causeCode(name);
  return n <= 127 ? n : 16;
}

/**
 * mod_dptools' bridge: after a failed originate the caller is hung up with the cause unless
 * `continue_on_fail` (a channel variable) says to continue: `true`, or a list of cause names or
 * numbers. With no continue_on_fail at all, NO_ANSWER, NO_USER_RESPONSE and ORIGINATOR_CANCEL continue.
 */
export function bridgeFailureHangsUp(cause: string, continueOnFail: string | undefined): boolean {
  if (continueOnFail === undefined) return !['NO_ANSWER', 'NO_USER_RESPONSE', 'ORIGINATOR_CANCEL'].includes(cause);
  if (switchTrue(continueOnFail)) return false;
  const code = String(causeCode(cause));
  return !continueOnFail.split(',').some((c) => c.trim().toUpperCase() === cause || c.trim() === code);
}

/** switch_true: yes/on/true/t/enabled/active/allow, or a non-zero number (so `continue_on_fail=17` means "always"). */
export function switchTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  if (['yes', 'on', 'true', 't', 'enabled', 'active', 'allow'].includes(v.toLowerCase())) return true;
  return /^-?\d+(\.\d+)?$/.test(v) && Number.parseInt(v, 10) !== 0;
}
