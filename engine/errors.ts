/**
 * Typed errors: callers branch on `kind`, never on message text. Each one prints as a single
 * line naming where the problem is and what it is.
 */
export abstract class EngineError extends Error {
  abstract readonly kind: string;
}

/** A document (callflow, account bundle, scenario) that fails to load or validate. */
export class DocumentError extends EngineError {
  readonly kind = 'document_invalid';
  constructor(
    readonly file: string,
    readonly pointer: string,
    readonly problem: string,
  ) {
    super(`${file}: ${pointer || '/'}: ${problem}`);
    this.name = 'DocumentError';
  }
}

/** A command line that cannot be acted on (unknown flag, missing argument). */
export class UsageError extends EngineError {
  readonly kind = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The channel hung up or vanished while a module still wanted to act on it. */
export class ChannelGoneError extends EngineError {
  readonly kind = 'channel_gone';
  constructor(
    readonly uuid: string,
    readonly app: string,
  ) {
    super(`channel ${uuid} is gone: cannot run ${app}`);
    this.name = 'ChannelGoneError';
  }
}

/** The switch refused a command (FreeSWITCH: a `-ERR` reply to sendmsg). */
export class CommandRejectedError extends EngineError {
  readonly kind = 'command_rejected';
  constructor(
    readonly app: string,
    readonly reason: string,
  ) {
    super(`${app} rejected by the switch: ${reason}`);
    this.name = 'CommandRejectedError';
  }
}

/** A command whose CHANNEL_EXECUTE_COMPLETE never arrived in time. */
export class CommandTimeoutError extends EngineError {
  readonly kind = 'command_timeout';
  constructor(
    readonly app: string,
    readonly applicationUuid: string,
    readonly timeoutMs: number,
  ) {
    super(`${app} (${applicationUuid}) did not complete within ${timeoutMs} ms`);
    this.name = 'CommandTimeoutError';
  }
}

/** Anything a module threw that is not one of ours: kept with its class name. */
export function describeError(err: unknown): { kind: string; message: string } {
  if (err instanceof EngineError) return { kind: err.kind, message: err.message };
  if (err instanceof Error) return { kind: `exception:${err.name}`, message: firstLine(err.message) };
  return { kind: 'exception', message: firstLine(String(err)) };
}

export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** A module wanted to send a message but this engine was started without an outbox. */
export class OutboxMissingError extends EngineError {
  readonly kind = 'outbox_missing';
  constructor() {
    super('no outbox is configured: messages cannot be sent');
    this.name = 'OutboxMissingError';
  }
}
