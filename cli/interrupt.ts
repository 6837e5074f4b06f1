import type { DrainResult } from '../integrations/notify/dispatcher.ts';

export interface Interrupt {
  /** The signal caught, once there was one. */
  readonly signal: NodeJS.Signals | undefined;
  /** Settles with the signal caught. */
  readonly caught: Promise<NodeJS.Signals>;
  /** Signals end the process again, as usual. */
  release(): void;
}

/**
 * Catches the first SIGINT or SIGTERM instead of letting it end the process, so that what is
 * under way (a call, a send) can finish and be recorded first. A second signal ends the process
 * at once, as usual.
 */
export function catchInterrupt(onSignal: (signal: NodeJS.Signals) => void): Interrupt {
  let signal: NodeJS.Signals | undefined;
  let settle: (signal: NodeJS.Signals) => void = () => {};
  const caught = new Promise<NodeJS.Signals>((resolve) => (settle = resolve));
  const release = (): void => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  const handler = (s: NodeJS.Signals): void => {
    release();
    signal = s;
    onSignal(s);
    settle(s);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get signal() {
      return signal;
    },
    caught,
    release,
  };
}

/** The exit code of a command its user interrupted: 128 + the signal's number, as a shell reports. */
export const interruptedExitCode = (signal: NodeJS.Signals): number => (signal === 'SIGINT' ? 130 : 143);

/** What delivers the outbox: the outbox worker, or a dispatcher on this thread. */
export interface Deliverer {
  drain(timeoutMs: number): Promise<DrainResult>;
  close(): Promise<void>;
}

/**
 * Waits up to `timeoutMs` for the outbox to deliver, or until `stop` settles (a signal): then no
 * longer for retries to come due, only for the sends in flight. Either way the deliverer is
 * closed with its sends in flight recorded: a process ended mid-send would leave its message
 * 'sending', and the next run would send it again.
 */
export async function deliverUntil(deliverer: Deliverer, timeoutMs: number, stop: Promise<unknown>): Promise<DrainResult> {
  // Closing ends the drain once the sends in flight are recorded; its failure surfaces below.
  void stop.then(() => deliverer.close()).catch(() => {});
  try {
    return await deliverer.drain(timeoutMs);
  } finally {
    await deliverer.close();
  }
}
