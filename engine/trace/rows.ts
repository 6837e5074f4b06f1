/**
 * The step log's rows, as the engine produces them. Every row of one execution carries `ord`,
 * one counter across all kinds, so a timeline can interleave them exactly as they happened.
 * Times `at`/`started_at`/`ended_at` are on the call's clock (virtual in simulations).
 */

export type ExecutionStatus = 'running' | 'completed' | 'failed' | 'incomplete';

export type EndReason =
  | 'callflow_finished'
  | 'stopped'
  | 'hangup_requested'
  | 'channel_gone'
  | 'branch_limit'
  | 'no_route'
  /** The engine was shutting down when the call came: hung up at once, no callflow run. */
  | 'shutting_down'
  | 'switch_disconnected'
  | 'engine_error';

export type HangupBy = 'caller' | 'callee' | 'engine' | 'switch';

export interface ExecutionStart {
  readonly id: string;
  readonly source: string;
  readonly scenario: string | null;
  readonly account_id: string;
  readonly call_id: string;
  readonly caller_number: string;
  readonly caller_name: string;
  readonly callee_number: string;
  readonly callflow_id: string | null;
  readonly callflow_name: string | null;
  readonly callflow_revision: string | null;
  readonly route_by: string | null;
  readonly route_pattern: string | null;
  readonly capture_group: string | null;
  readonly started_at: number;
  readonly wall_started_at: number;
}

export interface ExecutionEnd {
  readonly status: Exclude<ExecutionStatus, 'running'>;
  readonly end_reason: EndReason;
  readonly ended_at: number;
  readonly wall_ended_at: number;
  readonly hangup_by: HangupBy | null;
  readonly hangup_cause: string | null;
  readonly hangup_code: string | null;
  readonly disposition: string | null;
  readonly answered: boolean;
  readonly call_bridged: boolean;
  readonly message_left: boolean;
  readonly duration_ms: number | null;
  readonly error: string | null;
}

export type StepOutcome = 'continue' | 'attempt' | 'stop' | 'branch' | 'wait' | 'skipped' | 'unknown_module' | 'error' | 'empty';

export interface StepRow {
  ord: number;
  readonly seq: number;
  readonly parent_seq: number | null;
  readonly callflow_id: string;
  readonly node_path: string;
  readonly module: string;
  readonly data: string;
  outcome: StepOutcome | null;
  requested_key: string | null;
  child_key: string | null;
  reason: string | null;
  readonly started_at: number;
  ended_at: number | null;
  error_kind: string | null;
  error_message: string | null;
  notes: string[];
}

export interface EventRow {
  readonly ord: number;
  readonly at: number;
  readonly step_seq: number | null;
  readonly uuid: string;
  readonly name: string;
  readonly headers: string;
}

export interface CommandRow {
  readonly ord: number;
  readonly at: number;
  readonly step_seq: number | null;
  readonly uuid: string;
  readonly app: string;
  readonly args: string;
  readonly application_uuid: string;
  ack: string | null;
  completed_at: number | null;
  response: string | null;
  error_kind: string | null;
}

export interface EffectRow {
  readonly ord: number;
  readonly at: number;
  readonly step_seq: number | null;
  readonly handler_key: string;
  readonly module: string;
  status: 'ok' | 'failed' | 'collapsed';
  detail: string;
  error_kind: string | null;
  error_message: string | null;
}

/** Where finished executions go. Each `commit` is all-or-nothing for that execution. */
export interface TraceSink {
  begin(start: ExecutionStart): void;
  commit(start: ExecutionStart, end: ExecutionEnd, rows: ExecutionRows): void;
  /**
   * Runs `write`, which commits rows of this execution outside the step log (a queued message, a
   * kept voicemail), with the execution on record (at least as running) in the same transaction:
   * a crash can then leave the execution incomplete, never its rows without it.
   */
  durably?<T>(start: ExecutionStart, write: () => T): T;
}

export interface ExecutionRows {
  readonly steps: readonly StepRow[];
  readonly events: readonly EventRow[];
  readonly commands: readonly CommandRow[];
  readonly effects: readonly EffectRow[];
}
