import type { FlowNode } from '../documents/types.ts';
import type { ModuleRegistry } from '../module.ts';
import type { StepOutcome } from '../trace/rows.ts';
import { next, type Next } from './next.ts';
import { decide, isEmptyNode, stopAtEmptyNode, type After, type Decision, type Frame } from './rules.ts';

export interface Position {
  readonly frame: Frame;
  readonly stack: readonly Frame[];
  readonly budget: number;
}

/** A module's verdict, or its failure already turned into continue("_"). */
export interface Verdict {
  readonly next: Next;
  readonly outcome?: StepOutcome;
  readonly error?: { readonly kind: string; readonly message: string };
}

export type Final =
  | ({ readonly kind: 'run' } & Position)
  | Exclude<After, { kind: 'launch' }>;

export interface Plan {
  /** How the step that just ran closes (absent at the start). */
  readonly closing?: Decision;
  /** Nodes passed over without running (skip_module, unknown module), each a step of its own. */
  readonly passed: readonly { readonly frame: Frame; readonly decision: Decision }[];
  readonly final: Final;
}

/**
 * From where the executor stands and a module's verdict, works out everything up to the next
 * module that must actually run: skipped and unknown nodes, empty children, branch returns.
 * Pure, so the state machine can choose its transition from it and then record it.
 */
export function plan(
  at: Position,
  stepSeq: number,
  channelGone: boolean,
  registry: ModuleRegistry,
  verdict?: Verdict,
): Plan {
  const passed: { frame: Frame; decision: Decision }[] = [];
  let closing: Decision | undefined;
  let after: After;
  if (verdict) {
    closing = decide({ ...at, stepSeq, channelGone }, verdict.next, verdict.outcome);
    after = closing.after;
  } else {
    after = { kind: 'launch', ...at };
  }
  for (;;) {
    if (after.kind !== 'launch') return { closing, passed, final: after };
    const pos: Position = { frame: after.frame, stack: after.stack, budget: after.budget };
    if (channelGone) return { closing, passed, final: { kind: 'terminate', reason: 'channel_gone' } };
    if (isEmptyNode(pos.frame.node)) {
      after = stopAtEmptyNode({ ...pos, stepSeq, channelGone });
      continue;
    }
    const n = pos.frame.node as FlowNode;
    const skipped = n.data?.skip_module === true;
    if (!skipped && registry.get(n.module)) return { closing, passed, final: { kind: 'run', ...pos } };
    const why = skipped ? 'skip_module is set' : `unknown module "${n.module}": skipped`;
    const decision = decide(
      { ...pos, stepSeq: stepSeq + passed.length + 1, channelGone },
      next.continue('_', why),
      skipped ? 'skipped' : 'unknown_module',
    );
    passed.push({ frame: pos.frame, decision });
    after = decision.after;
  }
}
