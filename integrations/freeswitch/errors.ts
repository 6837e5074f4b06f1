import { firstLine } from '../../engine/errors.ts';

/**
 * The driver's typed errors. Callers branch on `kind`; each message is one line that says what
 * happened and where, so a log line or a CommandAck reason is enough to act on.
 */
export abstract class EslError extends Error {
  abstract readonly kind: string;
}

/** A value that would break an ESL frame, a dial string or FreeSWITCH's variable expansion. */
export class UnsafeValueError extends EslError {
  readonly kind = 'esl_unsafe_value';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'UnsafeValueError';
  }
}

/** The peer sent bytes that are not an ESL message (bad Content-Length, oversized header block...). */
export class EslFramingError extends EslError {
  readonly kind = 'esl_framing';
  constructor(readonly problem: string) {
    super(`malformed ESL frame: ${problem}`);
    this.name = 'EslFramingError';
  }
}

/** A command whose reply (command/reply, api/response, BACKGROUND_JOB) did not arrive in time. */
export class EslCommandTimeoutError extends EslError {
  readonly kind = 'esl_command_timeout';
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to "${command}" within ${timeoutMs} ms`);
    this.name = 'EslCommandTimeoutError';
  }
}

/** The connection closed (or was never open) while a command waited for its reply. */
export class EslDisconnectedError extends EslError {
  readonly kind = 'esl_disconnected';
  constructor(
    readonly command: string,
    readonly why: string,
  ) {
    super(`"${command}" failed: ${why}`);
    this.name = 'EslDisconnectedError';
  }
}

/** FreeSWITCH answered a command with -ERR. */
export class EslCommandError extends EslError {
  readonly kind = 'esl_command_error';
  constructor(
    readonly command: string,
    readonly reply: string,
  ) {
    super(`"${command}" refused: ${reply}`);
    this.name = 'EslCommandError';
  }
}

/** The replies stopped matching what was sent (a reply of the wrong type): the connection is unusable. */
export class EslProtocolError extends EslError {
  readonly kind = 'esl_protocol';
  constructor(readonly problem: string) {
    super(`ESL protocol error: ${problem}`);
    this.name = 'EslProtocolError';
  }
}

/** Inbound: the password was refused. Retrying cannot help, so the connection stops. */
export class EslAuthError extends EslError {
  readonly kind = 'esl_auth';
  constructor(readonly reply: string) {
    super(`FreeSWITCH refused the event socket password (${reply})`);
    this.name = 'EslAuthError';
  }
}

/** Inbound: no authenticated session within the connect timeout. */
export class EslConnectTimeoutError extends EslError {
  readonly kind = 'esl_connect_timeout';
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    super(`no authenticated event socket session with ${target} within ${timeoutMs} ms`);
    this.name = 'EslConnectTimeoutError';
  }
}

/** The outbound server could not listen (EADDRINUSE, EACCES...). */
export class EslListenError extends EslError {
  readonly kind = 'esl_listen';
  constructor(
    readonly address: string,
    readonly code: string,
    detail: string,
  ) {
    super(`cannot listen for FreeSWITCH outbound sockets on ${address}: ${detail} (${code})`);
    this.name = 'EslListenError';
  }
}

/** One line for any error value: socket errors carry a code worth showing. */
export function oneLine(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const msg = firstLine(err.message);
    return code && !msg.includes(code) ? `${msg} (${code})` : msg;
  }
  return firstLine(String(err));
}
