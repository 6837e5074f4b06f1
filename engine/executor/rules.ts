import type { FlowNode } from '../documents/types.ts';
import { joinPointer } from '../documents/pointer.ts';
import type { HangupCause } from '../switch.ts';
import type { EndReason, StepOutcome } from '../trace/rows.ts';
import type { Next } from './next.ts';

/** KAZOO's callflow.max_branch_count. */
export const BRANCH_BUDGET = 50;

/** Where the executor is in the tree. `parentSeq` is the step that branched into this flow. */
export interface Frame {
  readonly node: FlowNode | Record<string, never>;
  readonly callflowId: string;
  readonly path: string;
  readonly parentSeq: number | null;
}

export type After =
  | { readonly kind: 'launch'; readonly frame: Frame; readonly stack: readonly Frame[]; readonly budget: number }
  | { readonly kind: 'hangup'; readonly cause: HangupCause; readonly reason: EndReason }
  | { readonly kind: 'wait' }
  | { readonly kind: 'terminate'; readonly reason: EndReason };

/** What the step log says about the choice. */
export interface Decision {
  readonly after: After;
  readonly outcome: StepOutcome;
  readonly requestedKey: string | null;
  readonly childKey: string | null;
  readonly reason: string;
}

export interface ExecState {
  readonly frame: Frame;
  readonly stack: readonly Frame[];
  readonly budget: number;
  /** Seq of the step whose verdict is being applied. */
  readonly stepSeq: number;
  readonly channelGone: boolean;
}

export const isEmptyNode = (n: FlowNode | Record<string, never> | undefined): boolean =>
  n === undefined || !('module' in n);

function child(frame: Frame, key: string, stepSeq: number, parentSeq: number | null): Frame | undefined {
  const children = (frame.node as FlowNode).children;
  // Keys come from the switch too (a hangup cause): `toString` must not find Object.prototype's.
  if (!children || !Object.hasOwn(children, key)) return undefined;
  const node = children[key]!;
  return { node, callflowId: frame.callflowId, path: joinPointer(frame.path, 'children', key), parentSeq };
}

/**
 * KAZOO's cf_exe rules (kazoo-semantics.md, section b) as one pure function: the current state
 * plus a module's verdict gives what happens next and why. The xstate machine only sequences.
 */
export function decide(s: ExecState, verdict: Next, outcome: StepOutcome = verdict.kind): Decision {
  const parent = s.frame.parentSeq;
  const launch = (frame: Frame, stack = s.stack, budget = s.budget): After => ({ kind: 'launch', frame, stack, budget });
  const why = verdict.why ? `${verdict.why}; ` : '';

  if (verdict.kind === 'wait') {
    return { after: { kind: 'wait' }, outcome, requestedKey: null, childKey: null, reason: `${why}waiting for the channel to end` };
  }
  if (verdict.kind === 'stop') {
    const st = stop(s, verdict.cause, 'stopped');
    return { after: st.after, outcome, requestedKey: null, childKey: null, reason: why + st.reason };
  }
  if (verdict.kind === 'branch') {
    if (s.budget <= 0) {
      return term('branch_limit', outcome, null, `${why}branch budget of ${BRANCH_BUDGET} used up: loop guard`);
    }
    const ret = child(s.frame, '_', s.stepSeq, parent);
    const stack = ret && !isEmptyNode(ret.node) ? [...s.stack, ret] : s.stack;
    const frame: Frame = { ...verdict.flow, parentSeq: s.stepSeq };
    return {
      after: launch(frame, stack, s.budget - 1),
      outcome,
      requestedKey: null,
      childKey: null,
      reason: `${why}branch to ${verdict.flow.callflowId}${verdict.flow.path}${ret && !isEmptyNode(ret.node) ? ', returning to "_" after' : ''}`,
    };
  }
  if (s.channelGone) {
    return term('channel_gone', outcome, requestedOf(verdict), `${why}channel is gone: no further node starts`);
  }
  if (verdict.kind === 'attempt') {
    for (const key of verdict.keys) {
      const c = child(s.frame, key, s.stepSeq, parent);
      if (c && !isEmptyNode(c.node)) {
        return { after: launch(c), outcome, requestedKey: verdict.keys.join(','), childKey: key, reason: `${why}child "${key}"` };
      }
    }
    const d = continueTo(s, '_', parent);
    return {
      ...d,
      outcome,
      requestedKey: verdict.keys.join(','),
      reason: `${why}no child for ${verdict.keys.map((k) => `"${k}"`).join(' or ')}; ${d.reason}`,
    };
  }
  const d = continueTo(s, verdict.key, parent);
  return { ...d, outcome, requestedKey: verdict.key, reason: why + d.reason };
}

function requestedOf(v: Next): string | null {
  return v.kind === 'continue' ? v.key : v.kind === 'attempt' ? v.keys.join(',') : null;
}

function continueTo(s: ExecState, key: string, parent: number | null): Omit<Decision, 'outcome' | 'requestedKey'> {
  const c = child(s.frame, key, s.stepSeq, parent);
  if (c) {
    return {
      after: { kind: 'launch', frame: c, stack: s.stack, budget: s.budget },
      childKey: key,
      reason: isEmptyNode(c.node) ? `child "${key}" is empty: stop` : `child "${key}"`,
    };
  }
  if (key !== '_') {
    const d = continueTo(s, '_', parent);
    return { ...d, reason: `no child "${key}": fell back to "_"; ${d.reason}` };
  }
  const st = stop(s, undefined, 'callflow_finished');
  return { after: st.after, childKey: null, reason: `no "_" child: ${st.reason}` };
}

/** An empty node launched acts as stop(): the same as running out of children. */
export function stopAtEmptyNode(s: ExecState): After {
  return stop(s, undefined, 'callflow_finished').after;
}

function stop(s: ExecState, cause: HangupCause | undefined, ending: EndReason): { after: After; reason: string } {
  if (s.channelGone) return { after: { kind: 'terminate', reason: 'channel_gone' }, reason: 'channel is gone' };
  const top = s.stack[s.stack.length - 1];
  if (top) {
    return {
      after: { kind: 'launch', frame: top, stack: s.stack.slice(0, -1), budget: s.budget },
      reason: `stop: return to ${top.callflowId}${top.path}`,
    };
  }
  if (cause) return { after: { kind: 'hangup', cause, reason: 'hangup_requested' }, reason: `stop: hang up with ${cause}` };
  return { after: { kind: 'terminate', reason: ending }, reason: 'stop: callflow ends' };
}

function term(reason: EndReason, outcome: StepOutcome, requestedKey: string | null, text: string): Decision {
  return { after: { kind: 'terminate', reason }, outcome, requestedKey, childKey: null, reason: text };
}
