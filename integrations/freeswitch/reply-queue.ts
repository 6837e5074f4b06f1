import { EslCommandTimeoutError, EslDisconnectedError, EslProtocolError, type EslError } from './errors.ts';

/** Timers the driver uses for its own deadlines (real ones unless a test injects others). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A deadline alone must not keep a process alive; the socket it belongs to does.
    t.unref();
    return t;
  },
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

export type ReplyType = 'command/reply' | 'api/response';

/** A reply frame: for command/reply the text is Reply-Text, for api/response the body. */
export interface Reply {
  readonly type: ReplyType;
  readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type ReplyResult = { readonly ok: true; readonly reply: Reply } | { readonly ok: false; readonly error: EslError };

interface Slot {
  readonly label: string;
  readonly type: ReplyType;
  timer: unknown;
  /** Resolved already (timed out): its reply, when it comes, is only consumed. */
  settled: boolean;
  resolve(r: ReplyResult): void;
}

/**
 * Matches replies to commands. FreeSWITCH answers the commands of one socket in the order they
 * were sent, but events may come in between (a reply is never simply "the next frame"), so
 * everything sent that expects a reply takes a slot here, in send order, and each reply frame
 * settles the oldest slot. A slot that times out is answered at once with a typed error but
 * keeps its place, so the late reply still lines up with its own command.
 */
export class ReplyQueue {
  private readonly slots: Slot[] = [];

  constructor(
    private readonly timers: Timers,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** Takes the next slot. Call it in the same turn as the write, before anything else is sent. */
  expect(label: string, type: ReplyType, timeoutMs = this.defaultTimeoutMs): Promise<ReplyResult> {
    return new Promise((resolve) => {
      const slot: Slot = { label, type, timer: undefined, settled: false, resolve };
      slot.timer = this.timers.setTimeout(() => {
        if (slot.settled) return;
        slot.settled = true;
        resolve({ ok: false, error: new EslCommandTimeoutError(label, timeoutMs) });
      }, timeoutMs);
      this.slots.push(slot);
    });
  }

  /**
   * Feeds a reply frame. Returns an error when it cannot belong to what was sent (nothing
   * pending, or the wrong type): replies no longer line up, and the connection should go.
   */
  take(reply: Reply): EslProtocolError | null {
    const slot = this.slots.shift();
    if (!slot) return new EslProtocolError(`a ${reply.type} arrived with no command waiting for one (${JSON.stringify(reply.text.slice(0, 60))})`);
    this.timers.clearTimeout(slot.timer);
    if (slot.type !== reply.type) {
      const error = new EslProtocolError(`"${slot.label}" expected a ${slot.type} and got a ${reply.type}`);
      if (!slot.settled) slot.resolve({ ok: false, error });
      slot.settled = true;
      return error;
    }
    if (!slot.settled) slot.resolve({ ok: true, reply });
    slot.settled = true;
    return null;
  }

  /** The connection is gone: every waiting command fails now, not at its deadline. */
  failAll(why: string): void {
    for (const slot of this.slots.splice(0)) {
      this.timers.clearTimeout(slot.timer);
      if (!slot.settled) slot.resolve({ ok: false, error: new EslDisconnectedError(slot.label, why) });
      slot.settled = true;
    }
  }

  get pending(): number {
    return this.slots.length;
  }
}
