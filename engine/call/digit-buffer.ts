import type { EngineClock } from '../providers.ts';

/**
 * DTMF the caller pressed and nobody has read yet (KAZOO keeps digits queued between
 * commands). Collection waits on the injected clock, so simulated waits cost nothing.
 */
export class DigitBuffer {
  private digits = '';
  private wake: ((arrived: boolean) => void) | undefined;

  constructor(private readonly clock: EngineClock) {}

  push(digit: string): void {
    this.digits += digit;
    this.wakeUp(true);
  }

  flush(): void {
    this.digits = '';
  }

  /** Stops any wait in progress (the channel went away). */
  close(): void {
    this.closed = true;
    this.wakeUp(false);
  }
  private closed = false;

  /** Collections run one after another: a second one waits for the first to finish. */
  private queue: Promise<unknown> = Promise.resolve();

  collect(opts: { maxDigits: number; timeoutMs: number; interdigitMs: number; terminators?: string }): Promise<string> {
    const mine = this.queue.then(() => this.collectNow(opts));
    this.queue = mine.catch(() => {});
    return mine;
  }

  private async collectNow(opts: { maxDigits: number; timeoutMs: number; interdigitMs: number; terminators?: string }): Promise<string> {
    let got = '';
    let wait = opts.timeoutMs;
    while (got.length < opts.maxDigits) {
      if (this.digits.length === 0) {
        if (this.closed || !(await this.waitForDigit(wait))) break;
      }
      const d = this.digits[0]!;
      this.digits = this.digits.slice(1);
      if (opts.terminators?.includes(d)) break;
      got += d;
      wait = opts.interdigitMs;
    }
    return got;
  }

  private waitForDigit(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.wakeUp(false), ms);
      this.wake = (arrived) => {
        this.clock.clearTimeout(timer);
        resolve(arrived);
      };
    });
  }

  private wakeUp(arrived: boolean): void {
    const w = this.wake;
    this.wake = undefined;
    w?.(arrived);
  }
}
