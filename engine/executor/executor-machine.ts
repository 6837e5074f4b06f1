import { assign, setup } from 'xstate';
import type { Call } from '../call/call.ts';
import type { FlowNode } from '../documents/types.ts';
import { describeError } from '../errors.ts';
import type { ModuleRegistry } from '../module.ts';
import type { ExecutionTrace } from '../trace/execution-trace.ts';
import type { EndReason, StepRow } from '../trace/rows.ts';
import { next, type Next } from './next.ts';
import { plan, type Plan, type Verdict } from './plan.ts';
import { BRANCH_BUDGET, type Decision, type Frame } from './rules.ts';

export interface ExecutorInput {
  readonly call: Call;
  readonly registry: ModuleRegistry;
  readonly trace: ExecutionTrace;
  readonly root: Frame;
  readonly startedAt: number;
  /** How long to wait for the channel to be destroyed after the callflow ends (ms). */
  readonly destroyWaitMs: number;
  /** How long a module may keep running once the channel is destroyed (KAZOO waits 60 s for RECORD_STOP). */
  readonly moduleGraceMs: number;
}

interface Context extends ExecutorInput {
  frame: Frame;
  stack: readonly Frame[];
  budget: number;
  endReason: EndReason | null;
  previousModule: string | undefined;
}

type ExecutorEvent =
  | { type: 'START' }
  | { type: 'CHANNEL_GONE' }
  | { type: 'CHANNEL_DESTROYED' }
  | { type: 'MODULE_DONE'; step: number; output: Next }
  | { type: 'MODULE_FAILED'; step: number; error: unknown }
  | { type: 'HANDLERS_DONE' };

type AdvanceEvent = Extract<ExecutorEvent, { type: 'START' | 'MODULE_DONE' | 'MODULE_FAILED' }>;

const currentSeq = (ctx: Context): number => ctx.trace.currentStep?.seq ?? 0;

/** A module's report is only acted on if it belongs to the step still running. */
const fresh = (ctx: Context, e: ExecutorEvent): boolean => e.type === 'START' || ('step' in e && e.step === currentSeq(ctx));

function verdictOf(e: AdvanceEvent): Verdict | undefined {
  if (e.type === 'MODULE_DONE') return { next: e.output };
  if (e.type === 'MODULE_FAILED') {
    const error = describeError(e.error);
    return { next: next.continue('_', `module failed (${error.kind})`), outcome: 'error', error };
  }
  return undefined;
}

// Guards and actions of one transition all need the same plan: compute it once per event.
const plans = new WeakMap<object, Plan>();
function planFor(ctx: Context, e: ExecutorEvent): Plan {
  let p = plans.get(e);
  if (!p) {
    const at = { frame: ctx.frame, stack: ctx.stack, budget: ctx.budget };
    p = plan(at, currentSeq(ctx), ctx.call.gone, ctx.registry, verdictOf(e as AdvanceEvent));
    plans.set(e, p);
  }
  return p;
}

function close(trace: ExecutionTrace, row: StepRow, d: Decision, error?: { kind: string; message: string }): void {
  row.outcome = d.outcome;
  row.requested_key = d.requestedKey;
  row.child_key = d.childKey;
  row.reason = d.reason;
  if (error) {
    row.error_kind = error.kind;
    row.error_message = error.message;
  }
  trace.endStep(row);
}

/** Runs the post-hangup handlers one after another; each outcome becomes an effect row. */
async function runHandlers(call: Call, trace: ExecutionTrace, startedAt: number): Promise<void> {
  const handlers = call.handlers.inRunOrder();
  if (handlers.length === 0) return;
  const final = call.finalState(startedAt);
  for (const h of handlers) {
    const row = { step_seq: null, handler_key: h.key, module: h.module };
    try {
      const detail = await h.run(final);
      trace.effect({ ...row, status: 'ok', detail: JSON.stringify(detail), error_kind: null, error_message: null });
    } catch (err) {
      const e = describeError(err);
      trace.effect({ ...row, status: 'failed', detail: '{}', error_kind: e.kind, error_message: e.message });
    }
  }
}

const finalIs =
  (kind: Plan['final']['kind']) =>
  ({ context, event }: { context: Context; event: ExecutorEvent }): boolean =>
    fresh(context, event) && planFor(context, event).final.kind === kind;

/** The transitions out of a launch or a module's report: one per verdict, whatever it skips over. */
const advance = [
  { guard: finalIs('run'), target: '#executor.running', reenter: true, actions: ['recordPlan', 'adoptPlan'] },
  { guard: finalIs('hangup'), target: '#executor.hangingUp', actions: ['recordPlan', 'adoptPlan'] },
  { guard: finalIs('wait'), target: '#executor.waiting', actions: ['recordPlan', 'adoptPlan'] },
  { guard: finalIs('terminate'), target: '#executor.terminating', actions: ['recordPlan', 'adoptPlan'] },
] as const;

/**
 * The executor (KAZOO's cf_exe) as a state machine: run a module, apply its verdict by the rules
 * in `rules.ts`, and once nothing is left to run, make sure the channel is gone and run the
 * post-hangup handlers exactly once with the call's final state.
 */
export const executorMachine = setup({
  types: {
    context: {} as Context,
    input: {} as ExecutorInput,
    events: {} as ExecutorEvent,
    output: {} as { endReason: EndReason },
  },
  guards: {
    hasHandlers: ({ context }) => context.call.handlers.size > 0,
    channelGone: ({ context }) => context.call.gone,
    channelDestroyed: ({ context }) => context.call.destroyed,
  },
  delays: {
    destroyWait: ({ context }) => context.destroyWaitMs,
    moduleGrace: ({ context }) => context.moduleGraceMs,
  },
  actions: {
    /** Writes the plan into the step log: the closing step, nodes passed over, the next step. */
    recordPlan: ({ context, event }) => {
      const p = planFor(context, event);
      const { trace } = context;
      const running = trace.currentStep;
      if (running && p.closing) {
        close(trace, running, p.closing, verdictOf(event as AdvanceEvent)?.error);
      }
      for (const { frame, decision } of p.passed) {
        const n = frame.node as FlowNode;
        const row = trace.beginStep({ parentSeq: frame.parentSeq, callflowId: frame.callflowId, path: frame.path, module: n.module, data: n.data });
        close(trace, row, decision);
      }
      if (p.final.kind === 'run') {
        const f = p.final.frame;
        const n = f.node as FlowNode;
        trace.beginStep({ parentSeq: f.parentSeq, callflowId: f.callflowId, path: f.path, module: n.module, data: n.data });
      }
    },
    adoptPlan: assign(({ context, event }) => {
      const f = planFor(context, event).final;
      if (f.kind === 'run') {
        context.call.lastModule = context.previousModule;
        return { frame: f.frame, stack: f.stack, budget: f.budget, previousModule: (f.frame.node as FlowNode).module };
      }
      return f.kind === 'terminate' || f.kind === 'hangup' ? { endReason: f.reason } : {};
    }),
    // Modules run outside the machine and report back by event; a late report from a module
    // that was killed is recognised by its step and ignored.
    startModule: ({ context, self }) => {
      const n = context.frame.node as FlowNode;
      const step = currentSeq(context);
      context.call.nodeStarted();
      let running: Promise<Next>;
      try {
        running = context.registry.get(n.module)!.handle(n.data, context.call);
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (output) => self.send({ type: 'MODULE_DONE', step, output }),
        (error) => self.send({ type: 'MODULE_FAILED', step, error }),
      );
    },
    startHandlers: ({ context, self }) => {
      void runHandlers(context.call, context.trace, context.startedAt).finally(() => self.send({ type: 'HANDLERS_DONE' }));
    },
    endChannelGone: assign({ endReason: ({ context }) => context.endReason ?? 'channel_gone' }),
    hangupWithCause: ({ context, event }) => {
      const f = planFor(context, event).final;
      if (f.kind !== 'hangup') return;
      void context.call.hangup(f.cause).catch((err) => context.trace.note(`hangup failed: ${describeError(err).message}`));
    },
    hangupIfUp: ({ context }) => {
      if (context.call.gone) return;
      // KAZOO queues a hangup when the executor ends before the channel does.
      void context.call.hangup('NORMAL_CLEARING').catch((err) => context.trace.note(`hangup failed: ${describeError(err).message}`));
    },
    killModule: ({ context }) => {
      const row = context.trace.currentStep;
      if (!row) return;
      row.outcome = 'error';
      row.error_kind = 'killed';
      row.error_message = `module still running ${context.moduleGraceMs} ms after the channel was destroyed`;
      row.reason = 'killed: the channel is gone';
      context.trace.endStep(row);
    },
  },
}).createMachine({
  id: 'executor',
  context: ({ input }) => ({
    ...input,
    frame: input.root,
    stack: [],
    budget: BRANCH_BUDGET,
    endReason: null,
    previousModule: undefined,
  }),
  // Starting from `idle` keeps the first launch out of the initial snapshot, whose side effects
  // xstate defers until after the actor has started.
  initial: 'idle',
  states: {
    idle: { on: { START: [...advance] } },
    running: {
      tags: ['awaits-destroy'],
      entry: 'startModule',
      on: { MODULE_DONE: [...advance], MODULE_FAILED: [...advance], CHANNEL_DESTROYED: 'draining' },
    },
    // The channel is destroyed but the module still runs (a recording being finished): it gets
    // a grace period, then it is abandoned.
    draining: {
      on: { MODULE_DONE: [...advance], MODULE_FAILED: [...advance] },
      after: { moduleGrace: { target: 'terminating', actions: ['killModule', 'endChannelGone'] } },
    },
    hangingUp: {
      tags: ['awaits-hangup'],
      entry: 'hangupWithCause',
      always: { guard: 'channelGone', target: 'terminating' },
      on: { CHANNEL_GONE: 'terminating' },
      // A hangup the switch refused or never confirmed must not keep the execution open forever.
      after: { destroyWait: 'terminating' },
    },
    waiting: {
      tags: ['awaits-hangup'],
      always: { guard: 'channelGone', target: 'terminating', actions: 'endChannelGone' },
      on: { CHANNEL_GONE: { target: 'terminating', actions: 'endChannelGone' } },
    },
    terminating: {
      tags: ['awaits-destroy'],
      entry: 'hangupIfUp',
      always: { guard: 'channelDestroyed', target: 'ended' },
      on: { CHANNEL_DESTROYED: 'ended' },
      after: { destroyWait: 'ended' },
    },
    // The channel is gone (or will not say so): post-hangup handlers, if any, run now.
    ended: {
      always: [{ guard: 'hasHandlers', target: 'handlers' }, { target: 'done' }],
    },
    handlers: {
      entry: 'startHandlers',
      on: { HANDLERS_DONE: 'done' },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ endReason: context.endReason ?? 'callflow_finished' }),
});
