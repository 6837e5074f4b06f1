import { ChannelGoneError, CommandRejectedError, CommandTimeoutError } from '../errors.ts';
import type { EngineClock, IdProvider } from '../providers.ts';
import type { ChannelEvent, CommandAck, Switch, SwitchCommand } from '../switch.ts';
import type { ExecutionTrace } from '../trace/execution-trace.ts';
import type { CommandRow } from '../trace/rows.ts';

export interface Completion {
  readonly response: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface Pending {
  readonly row: CommandRow;
  readonly app: string;
  timer: unknown;
  resolve(c: Completion): void;
  reject(e: Error): void;
}

/**
 * Sends commands to one channel and pairs each with its CHANNEL_EXECUTE_COMPLETE by
 * Application-UUID, never by order. Every command has a timeout, so a completion the switch
 * never sends (FreeSWITCH drops them for rejected or orphaned commands) fails as a typed error.
 */
export class CommandTracker {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly sw: Switch,
    private readonly uuid: string,
    private readonly clock: EngineClock,
    private readonly ids: IdProvider,
    private readonly trace: ExecutionTrace,
  ) {}

  async run(command: SwitchCommand, timeoutMs: number): Promise<Completion> {
    const applicationUuid = this.ids.uuid();
    const { app, ...args } = command;
    const row = this.trace.command(this.uuid, app, args, applicationUuid);
    const done = new Promise<Completion>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.settle(applicationUuid, 'timeout');
        reject(new CommandTimeoutError(app, applicationUuid, timeoutMs));
      }, timeoutMs);
      this.pending.set(applicationUuid, { row, app, timer, resolve, reject });
    });
    // `done` may settle (destroy, timeout) while the acknowledgement is still awaited, with
    // nobody listening yet: mark it handled so that is not an unhandled rejection.
    done.catch(() => {});
    let ack: CommandAck;
    try {
      ack = await this.sw.execute(this.uuid, applicationUuid, command);
    } catch (err) {
      // A switch whose send itself failed (a dropped socket): the command is lost, say so.
      this.settle(applicationUuid, 'command_rejected');
      row.ack = `-ERR ${(err as Error).message}`;
      throw new CommandRejectedError(app, (err as Error).message);
    }
    row.ack = ack.ok ? '+OK' : `-ERR ${ack.reason}`;
    if (!ack.ok) {
      // The switch will never complete a command it refused: drop it without settling `done`.
      this.settle(applicationUuid, ack.gone ? 'channel_gone' : 'command_rejected');
      throw ack.gone ? new ChannelGoneError(this.uuid, app) : new CommandRejectedError(app, ack.reason);
    }
    return done;
  }

  /** Feeds a CHANNEL_EXECUTE_COMPLETE; true if it completed one of ours. */
  complete(event: ChannelEvent): boolean {
    const id = event.headers['Application-UUID'];
    if (!id) return false;
    const p = this.pending.get(id);
    if (!p) return false;
    const response = event.headers['Application-Response'] ?? '_none_';
    p.row.response = response;
    this.settle(id, null);
    p.resolve({ response, headers: event.headers });
    return true;
  }

  /**
   * Lifts the timeout of pending `app` commands: once a bridge is up, KAZOO waits for it with
   * no limit (the call may last hours).
   */
  holdTimeouts(app: string): void {
    for (const p of this.pending.values()) {
      if (p.app !== app) continue;
      this.clock.clearTimeout(p.timer);
      p.timer = undefined;
    }
  }

  /**
   * Completes pending `app` commands from an event other than EXECUTE_COMPLETE: a hangup is a
   * call-command, not a queued application, and its proof is the CHANNEL_HANGUP itself.
   */
  completeApp(app: string, event: ChannelEvent, response: string): void {
    for (const [id, p] of [...this.pending]) {
      if (p.app !== app) continue;
      p.row.response = response;
      this.settle(id, null);
      p.resolve({ response, headers: event.headers });
    }
  }

  /** The channel is gone for good: whatever is still pending will never complete. */
  failAll(): void {
    for (const [id, p] of [...this.pending]) {
      this.settle(id, 'channel_gone');
      p.reject(new ChannelGoneError(this.uuid, p.app));
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private settle(id: string, errorKind: string | null): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.clock.clearTimeout(p.timer);
    p.row.completed_at = this.clock.now();
    p.row.error_kind = errorKind;
  }
}
