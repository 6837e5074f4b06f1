import type { EngineClock } from '../providers.ts';
import type { ChannelEvent } from '../switch.ts';
import type { CommandRow, EffectRow, EventRow, ExecutionRows, StepRow } from './rows.ts';

/**
 * Collects one execution's rows in memory until the execution ends, then hands them to a
 * sink in one piece (so the step log is never half-written). Events and commands are tied to
 * the step that was running when they happened.
 */
export class ExecutionTrace implements ExecutionRows {
  readonly steps: StepRow[] = [];
  readonly events: EventRow[] = [];
  readonly commands: CommandRow[] = [];
  readonly effects: EffectRow[] = [];
  private ord = 0;
  private current: StepRow | undefined;

  constructor(private readonly clock: EngineClock) {}

  get currentStep(): StepRow | undefined {
    return this.current;
  }

  beginStep(s: { parentSeq: number | null; callflowId: string; path: string; module: string; data: unknown }): StepRow {
    const row: StepRow = {
      ord: ++this.ord,
      seq: this.steps.length + 1,
      parent_seq: s.parentSeq,
      callflow_id: s.callflowId,
      node_path: s.path,
      module: s.module,
      data: JSON.stringify(s.data ?? {}),
      outcome: null,
      requested_key: null,
      child_key: null,
      reason: null,
      started_at: this.clock.now(),
      ended_at: null,
      error_kind: null,
      error_message: null,
      notes: [],
    };
    this.steps.push(row);
    this.current = row;
    return row;
  }

  endStep(row: StepRow): void {
    if (row.ended_at === null) row.ended_at = this.clock.now();
    if (this.current === row) this.current = undefined;
  }

  note(text: string): void {
    this.current?.notes.push(text);
  }

  event(e: ChannelEvent): void {
    // The name and the channel uuid have their own columns; repeating them in every row's
    // headers was a third of the step log's event bytes.
    const { 'Event-Name': _name, 'Unique-ID': _uuid, ...headers } = e.headers;
    this.events.push({
      ord: ++this.ord,
      at: this.clock.now(),
      step_seq: this.current?.seq ?? null,
      uuid: e.uuid,
      name: e.name,
      headers: JSON.stringify(headers),
    });
  }

  command(uuid: string, app: string, args: unknown, applicationUuid: string): CommandRow {
    const row: CommandRow = {
      ord: ++this.ord,
      at: this.clock.now(),
      step_seq: this.current?.seq ?? null,
      uuid,
      app,
      args: JSON.stringify(args),
      application_uuid: applicationUuid,
      ack: null,
      completed_at: null,
      response: null,
      error_kind: null,
    };
    this.commands.push(row);
    return row;
  }

  effect(e: Omit<EffectRow, 'ord' | 'at'>): EffectRow {
    const row: EffectRow = { ...e, ord: ++this.ord, at: this.clock.now() };
    this.effects.push(row);
    return row;
  }
}
