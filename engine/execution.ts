import { createActor } from 'xstate';
import type { AccountView } from './call/account-view.ts';
import { Call } from './call/call.ts';
import type { CallInfo } from './call/call-control.ts';
import type { LoadedCallflow } from './documents/types.ts';
import { describeError } from './errors.ts';
import { executorMachine } from './executor/executor-machine.ts';
import type { ModuleRegistry } from './module.ts';
import type { EngineClock, IdProvider } from './providers.ts';
import type { RouteMatch, Router } from './routing.ts';
import type { HangupCause, Switch } from './switch.ts';
import type { Outbox } from './outbox.ts';
import type { VoicemailStore } from './voicemail.ts';
import { ExecutionTrace } from './trace/execution-trace.ts';
import { recordedFirst } from './trace/recorded-first.ts';
import type { EndReason, ExecutionEnd, ExecutionStart, TraceSink } from './trace/rows.ts';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {} };

/** What every execution needs, whichever switch it runs on. */
export interface EngineDeps {
  readonly registry: ModuleRegistry;
  /** The call's clock: virtual in simulations. */
  readonly clock: EngineClock;
  /** Wall-clock timestamps for the step log (injected so tests can pin them). */
  readonly wallClock: { now(): number };
  readonly ids: IdProvider;
  /**
   * Execution ids, apart from `ids`: a scenario re-run into the same step log must get a new
   * execution id while its channel and command ids repeat exactly.
   */
  readonly executionIds: IdProvider;
  readonly sink: TraceSink;
  readonly source: string;
  readonly recordingDir: string;
  readonly logger?: Logger;
  /** Where modules' messages go; without one, sending fails as `outbox_missing` for that send. */
  readonly outbox?: Outbox;
  /** Where voicemail messages are kept; without one, a message cannot be saved (the step says so). */
  readonly voicemail?: VoicemailStore;
  readonly destroyWaitMs?: number;
  readonly moduleGraceMs?: number;
}

/** A call the switch handed to the engine. */
export interface IncomingCall {
  readonly sw: Switch;
  readonly channelUuid: string;
  readonly account: AccountView;
  readonly router: Router;
  readonly callerNumber: string;
  readonly callerName: string;
  readonly calleeNumber: string;
  /** The calling device, when the caller is one of the account's devices. */
  readonly deviceId?: string;
  /** Run this callflow instead of routing the callee number. */
  readonly callflow?: LoadedCallflow;
  /** Refuse the call (the engine is shutting down): hang up at once, but record it like any other. */
  readonly refuse?: 'shutting_down';
  readonly scenario?: string;
}

export interface ExecutionSummary {
  readonly id: string;
  readonly status: ExecutionEnd['status'];
  readonly endReason: EndReason;
  readonly callflowId: string | null;
  readonly hangupBy: string | null;
  readonly hangupCause: string | null;
  readonly steps: number;
  readonly durationMs: number | null;
  readonly error: string | null;
}

const DEFAULT_DESTROY_WAIT_MS = 10_000;
const DEFAULT_MODULE_GRACE_MS = 60_000;

/**
 * Runs one call from routing to its last post-hangup effect and records it. Never throws:
 * whatever goes wrong ends this call (and is recorded), not the process.
 */
export async function executeCall(deps: EngineDeps, incoming: IncomingCall): Promise<ExecutionSummary> {
  const log = deps.logger ?? silentLogger;
  const route: RouteMatch | undefined = incoming.refuse
    ? undefined
    : incoming.callflow
      ? { by: 'number', callflow: incoming.callflow, captureGroups: {} }
      : incoming.router.route(incoming.calleeNumber);
  const device = incoming.deviceId ? incoming.account.device(incoming.deviceId) : undefined;
  const info: CallInfo = {
    callId: incoming.channelUuid,
    callerNumber: incoming.callerNumber,
    callerName: incoming.callerName,
    calleeNumber: incoming.calleeNumber,
    ...(device?.owner_id ? { ownerId: device.owner_id } : {}),
    ...(device ? { authorizingId: device.id } : {}),
    ...(route?.captureGroup !== undefined ? { captureGroup: route.captureGroup } : {}),
    captureGroups: route?.captureGroups ?? {},
  };
  const start: ExecutionStart = {
    id: deps.executionIds.uuid(),
    source: deps.source,
    scenario: incoming.scenario ?? null,
    account_id: incoming.account.id,
    call_id: incoming.channelUuid,
    caller_number: incoming.callerNumber,
    caller_name: incoming.callerName,
    callee_number: incoming.calleeNumber,
    callflow_id: route?.callflow.doc.id ?? null,
    callflow_name: route?.callflow.doc.name ?? null,
    callflow_revision: route?.callflow.revision ?? null,
    route_by: incoming.callflow ? 'file' : (route?.by ?? null),
    route_pattern: route?.pattern ?? null,
    capture_group: route?.captureGroup ?? null,
    started_at: deps.clock.now(),
    wall_started_at: deps.wallClock.now(),
  };
  const trace = new ExecutionTrace(deps.clock);
  const call = new Call(info, {
    sw: incoming.sw,
    clock: deps.clock,
    ids: deps.ids,
    trace,
    account: incoming.account,
    recordingDir: deps.recordingDir,
    executionId: start.id,
    startedAt: start.started_at,
    ...recordedFirst(deps.sink, start, deps),
  });

  try {
    deps.sink.begin(start);
  } catch (err) {
    log.warn(`step log: cannot record the start of execution ${start.id}: ${describeError(err).message}`);
  }

  let endReason: EndReason;
  let error: string | null = null;
  try {
    if (route) endReason = await runExecutor(deps, call, trace, route, start.started_at);
    else if (incoming.refuse) endReason = await refuse(deps, call, 'NORMAL_TEMPORARY_FAILURE', 'refused: the engine is shutting down', 'shutting_down');
    else endReason = await refuse(deps, call, 'NO_ROUTE_DESTINATION', `no callflow for ${call.info.calleeNumber}`, 'no_route');
  } catch (err) {
    endReason = 'engine_error';
    error = describeError(err).message;
    log.warn(`execution ${start.id}: ${error}`);
  } finally {
    call.stop();
  }

  const f = call.channelFacts;
  const final = call.finalState(start.started_at);
  const end: ExecutionEnd = {
    status: endReason === 'no_route' || endReason === 'shutting_down' || endReason === 'engine_error' ? 'failed' : 'completed',
    end_reason: f.disconnected && endReason === 'channel_gone' ? 'switch_disconnected' : endReason,
    ended_at: deps.clock.now(),
    wall_ended_at: deps.wallClock.now(),
    hangup_by: f.hangupBy,
    hangup_cause: f.hangupCause,
    hangup_code: f.hangupCode,
    disposition: f.disposition,
    answered: final.answered,
    call_bridged: final.callBridged,
    message_left: final.messageLeft,
    duration_ms: f.hungUpAt === null ? null : f.hungUpAt - start.started_at,
    error,
  };
  try {
    deps.sink.commit(start, end, trace);
  } catch (err) {
    log.warn(`step log: execution ${start.id} not recorded: ${describeError(err).message}`);
  }
  return {
    id: start.id,
    status: end.status,
    endReason: end.end_reason,
    callflowId: start.callflow_id,
    hangupBy: end.hangup_by,
    hangupCause: end.hangup_cause,
    steps: trace.steps.length,
    durationMs: end.duration_ms,
    error,
  };
}

function runExecutor(deps: EngineDeps, call: Call, trace: ExecutionTrace, route: RouteMatch, startedAt: number): Promise<EndReason> {
  const actor = createActor(executorMachine, {
    clock: deps.clock,
    input: {
      call,
      registry: deps.registry,
      trace,
      root: { node: route.callflow.doc.flow, callflowId: route.callflow.doc.id, path: '/flow', parentSeq: null },
      startedAt,
      destroyWaitMs: deps.destroyWaitMs ?? DEFAULT_DESTROY_WAIT_MS,
      moduleGraceMs: deps.moduleGraceMs ?? DEFAULT_MODULE_GRACE_MS,
    },
  });
  return new Promise<EndReason>((resolve, reject) => {
    actor.subscribe({
      complete: () => resolve(actor.getSnapshot().output!.endReason),
      error: reject,
    });
    // Only the states that wait on the channel hear about it: every xstate event has a cost.
    call.start({
      onHungUp: () => {
        if (actor.getSnapshot().hasTag('awaits-hangup')) actor.send({ type: 'CHANNEL_GONE' });
      },
      onDestroyed: () => {
        if (actor.getSnapshot().hasTag('awaits-destroy')) actor.send({ type: 'CHANNEL_DESTROYED' });
      },
    });
    actor.start();
    actor.send({ type: 'START' });
  });
}

/**
 * Hangs up without running a callflow, and waits for the channel to be destroyed: no callflow
 * for the number (NO_ROUTE_DESTINATION, as KAZOO's route_req leaves it), or the engine shutting down.
 */
async function refuse(deps: EngineDeps, call: Call, cause: HangupCause, why: string, reason: EndReason): Promise<EndReason> {
  await new Promise<void>((resolve) => {
    const timer = deps.clock.setTimeout(resolve, deps.destroyWaitMs ?? DEFAULT_DESTROY_WAIT_MS);
    call.start({
      onHungUp() {},
      onDestroyed() {
        deps.clock.clearTimeout(timer);
        resolve();
      },
    });
    call.note(why);
    void call.hangup(cause).catch(() => {});
  });
  return reason;
}
