import { bridgeTimeoutMs, legTimeoutMs } from '../../engine/bridge-timing.ts';
import type { BridgeEndpoint, HangupCause } from '../../engine/switch.ts';
import type { DeviceBehaviour } from './scenario-schema.ts';

export interface LegPlan {
  readonly endpoint: BridgeEndpoint;
  readonly startMs: number;
  /** When the leg answers or fails, in ms from the bridge start. */
  readonly atMs: number;
  readonly answers: boolean;
  readonly rings: boolean;
  readonly cause?: HangupCause;
}

export type BridgeResult =
  | { readonly kind: 'answer'; readonly leg: LegPlan; readonly atMs: number }
  | { readonly kind: 'fail'; readonly cause: HangupCause; readonly atMs: number };

export interface BridgePlan {
  readonly legs: readonly LegPlan[];
  readonly result: BridgeResult;
}

const IMMEDIATE: Partial<Record<DeviceBehaviour['action'], HangupCause>> = {
  unregistered: 'USER_NOT_REGISTERED',
  busy: 'USER_BUSY',
  reject: 'CALL_REJECTED',
};

function planLeg(endpoint: BridgeEndpoint, startMs: number, deadlineMs: number, b: DeviceBehaviour): LegPlan {
  const immediate = IMMEDIATE[b.action];
  if (startMs >= deadlineMs) return { endpoint, startMs, atMs: deadlineMs, answers: false, rings: false, cause: 'NO_ANSWER' };
  if (immediate) return { endpoint, startMs, atMs: startMs, answers: false, rings: false, cause: immediate };
  const answerAt = b.action === 'answer' ? startMs + Math.round((b.after_s ?? 0) * 1000) : Infinity;
  if (answerAt < deadlineMs) return { endpoint, startMs, atMs: answerAt, answers: true, rings: true };
  return { endpoint, startMs, atMs: deadlineMs, answers: false, rings: true, cause: 'NO_ANSWER' };
}

export interface BridgePlanOptions {
  /** FreeSWITCH's fail_on_single_reject: the first refusal (any cause but NO_ANSWER) before an answer ends the bridge. */
  readonly failOnSingleReject?: boolean;
}

/** A leg's failure that fail_on_single_reject acts on: a refusal, not ringing out. */
const refuses = (l: LegPlan): boolean => !l.answers && l.cause !== undefined && l.cause !== 'NO_ANSWER';

/**
 * Decides, from the scenario's device behaviours, what a bridge does: which leg answers and
 * when, or how and when it fails. Simultaneous: every leg rings from its Endpoint-Delay; the
 * first to answer wins; if none does, the last leg to fail gives the cause. Single: legs in
 * order, each ringing up to its own timeout once the previous one failed.
 *
 * With `failOnSingleReject`, the first leg to refuse before any leg answered ends the bridge at
 * that moment with its cause: simultaneous legs still ringing are cancelled then, and single
 * legs after it are never tried. `legs` holds only the legs that started, each ending no later
 * than the bridge.
 */
export function planBridge(
  endpoints: readonly BridgeEndpoint[],
  strategy: 'simultaneous' | 'single',
  timeoutSeconds: number,
  behaviourOf: (deviceId: string) => DeviceBehaviour,
  options: BridgePlanOptions = {},
): BridgePlan {
  const timeoutMs = bridgeTimeoutMs(timeoutSeconds);
  const legTimeout = (e: BridgeEndpoint): number => legTimeoutMs(e, timeoutMs);
  const legs: LegPlan[] = [];
  if (endpoints.length === 0) return { legs, result: { kind: 'fail', cause: 'NO_ROUTE_DESTINATION', atMs: 0 } };

  if (strategy === 'single') {
    let t = 0;
    for (const e of endpoints) {
      const start = t + e.delaySeconds * 1000;
      const leg = planLeg(e, start, start + legTimeout(e), behaviourOf(e.deviceId));
      legs.push(leg);
      if (leg.answers) return { legs, result: { kind: 'answer', leg, atMs: leg.atMs } };
      if (options.failOnSingleReject && refuses(leg)) return { legs, result: { kind: 'fail', cause: leg.cause!, atMs: leg.atMs } };
      t = leg.atMs;
    }
    const last = legs[legs.length - 1]!;
    return { legs, result: { kind: 'fail', cause: last.cause!, atMs: last.atMs } };
  }

  for (const e of endpoints) {
    const start = e.delaySeconds * 1000;
    legs.push(planLeg(e, start, Math.min(timeoutMs, start + legTimeout(e)), behaviourOf(e.deviceId)));
  }
  let winner: LegPlan | undefined;
  for (const l of legs) if (l.answers && (!winner || l.atMs < winner.atMs)) winner = l;
  if (options.failOnSingleReject) {
    // The first refusal (in endpoint order on a tie) that comes before the answer, if any.
    let reject: LegPlan | undefined;
    for (const l of legs) if (refuses(l) && (!reject || l.atMs < reject.atMs)) reject = l;
    if (reject && (!winner || reject.atMs < winner.atMs)) return cancelledAt(legs, reject);
  }
  if (winner) return { legs, result: { kind: 'answer', leg: winner, atMs: winner.atMs } };
  let lastFail = legs[0]!;
  for (const l of legs) if (l.atMs >= lastFail.atMs) lastFail = l;
  return { legs, result: { kind: 'fail', cause: lastFail.cause!, atMs: lastFail.atMs } };
}

/**
 * A simultaneous bridge ended by `reject`'s refusal: legs not started by then never start (they
 * are left out), and the others still ringing are cancelled at that moment.
 */
function cancelledAt(legs: readonly LegPlan[], reject: LegPlan): BridgePlan {
  const end = reject.atMs;
  const kept: LegPlan[] = [];
  for (const l of legs) {
    if (l === reject || l.atMs <= end) kept.push(l);
    else if (l.startMs < end) kept.push({ ...l, atMs: end, answers: false, cause: 'ORIGINATOR_CANCEL' });
  }
  return { legs: kept, result: { kind: 'fail', cause: reject.cause!, atMs: end } };
}

/** FreeSWITCH's DIALSTATUS for a failed originate. */
export function dialStatus(cause: HangupCause): string {
  switch (cause) {
    case 'USER_BUSY':
      return 'BUSY';
    case 'NO_ANSWER':
    case 'NO_USER_RESPONSE':
      return 'NOANSWER';
    case 'ORIGINATOR_CANCEL':
      return 'CANCEL';
    case 'USER_NOT_REGISTERED':
    case 'UNALLOCATED_NUMBER':
      return 'INVALIDARGS';
    default:
      return 'CHANUNAVAIL';
  }
}
