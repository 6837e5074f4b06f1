import type { FlowNode } from '../documents/types.ts';
import type { HangupCause } from '../switch.ts';

/** A flow to branch into: a node plus enough to name it in the step log. */
export interface FlowRef {
  readonly node: FlowNode | Record<string, never>;
  /** The callflow document the node belongs to. */
  readonly callflowId: string;
  /** JSON pointer of the node inside that document. */
  readonly path: string;
}

/**
 * Where a module sends the executor next (KAZOO's cf_exe verbs).
 * - continue(key): the child under `key`, else `"_"`, else stop.
 * - attempt(keys): the first key whose child is non-empty, else continue("_") (bridge failures).
 * - stop(cause?): pop a branch return point, else end (hanging up with `cause` if given).
 * - branch(flow): run another flow, returning to this node's `"_"` child when it stops.
 * - wait: the module is done but chose nothing; the executor waits for the channel to go.
 */
export type Next =
  | { readonly kind: 'continue'; readonly key: string; readonly why?: string }
  | { readonly kind: 'attempt'; readonly keys: readonly string[]; readonly why?: string }
  | { readonly kind: 'stop'; readonly cause?: HangupCause; readonly why?: string }
  | { readonly kind: 'branch'; readonly flow: FlowRef; readonly why?: string }
  | { readonly kind: 'wait'; readonly why?: string };

export const next = {
  continue: (key = '_', why?: string): Next => ({ kind: 'continue', key, why }),
  attempt: (keys: readonly string[], why?: string): Next => ({ kind: 'attempt', keys, why }),
  stop: (cause?: HangupCause, why?: string): Next => ({ kind: 'stop', cause, why }),
  branch: (flow: FlowRef, why?: string): Next => ({ kind: 'branch', flow, why }),
  wait: (why?: string): Next => ({ kind: 'wait', why }),
};
