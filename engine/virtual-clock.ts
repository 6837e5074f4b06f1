import type { EngineClock } from './providers.ts';

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * Virtual time for simulations. Timers fire only when the driver advances the clock, in
 * (due time, creation order) order, so an hour of call time costs only the events in it.
 * xstate's SimulatedClock cannot tell when the next timer is due, which a driver that
 * jumps from event to event needs.
 */
export class VirtualClock implements EngineClock {
  private current: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  /** Zero-delay timers (most of them: event deliveries), in creation order; cheaper than the heap. */
  private readonly now0: Timer[] = [];
  private now0Head = 0;
  private readonly cancelled = new Set<number>();
  private waiter: (() => void) | undefined;

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): number {
    // A NaN due time would sort nowhere and stop virtual time for every call on this clock.
    if (!Number.isFinite(ms)) throw new RangeError(`virtual clock: a timer of ${ms} ms`);
    const id = ++this.seq;
    const delay = Math.max(0, Math.round(ms));
    if (delay === 0) this.now0.push({ id, due: this.current, fn: fn as () => void });
    else this.push({ id, due: this.current + delay, fn: fn as () => void });
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
    return id;
  }

  clearTimeout(id: unknown): void {
    if (typeof id === 'number') this.cancelled.add(id);
  }

  /** Resolves the next time a timer is scheduled; lets a driver wait out real I/O. */
  timerScheduled(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** When the next timer is due (now, for zero-delay ones); undefined when none is pending. */
  nextDueAt(): number | undefined {
    this.dropCancelledHead();
    if (this.now0Head < this.now0.length) return this.current;
    return this.heap[0]?.due;
  }

  /** Fires every timer due up to `ms`, in order, then sets the time to `ms` (played at wall speed). */
  advanceTo(ms: number): void {
    for (let due = this.nextDueAt(); due !== undefined && due <= ms; due = this.nextDueAt()) this.advance();
    this.current = Math.max(this.current, ms);
  }

  /** Moves time to the earliest due timer and fires every timer due then. False if none. */
  advance(): boolean {
    this.dropCancelledHead();
    const first = this.heap[0];
    if (this.now0Head < this.now0.length) {
      // Zero-delay timers are due now; a heap timer due at the same time but created earlier goes first.
    } else if (!first) {
      return false;
    } else {
      this.current = Math.max(this.current, first.due);
    }
    for (;;) {
      const h = this.heap.length > 0 && this.heap[0]!.due <= this.current ? this.heap[0]! : undefined;
      const z = this.now0Head < this.now0.length ? this.now0[this.now0Head]! : undefined;
      let t: Timer;
      if (h && (!z || h.id < z.id)) t = this.pop()!;
      else if (z) {
        t = z;
        this.now0Head += 1;
      } else break;
      if (this.cancelled.size > 0 && this.cancelled.delete(t.id)) continue;
      t.fn();
    }
    this.now0.length = 0;
    this.now0Head = 0;
    return true;
  }

  /** Drops every pending timer (a finished simulation leaves nothing behind). */
  clear(): void {
    this.heap.length = 0;
    this.now0.length = 0;
    this.now0Head = 0;
    this.cancelled.clear();
  }

  private dropCancelledHead(): void {
    while (this.heap.length > 0 && this.cancelled.has(this.heap[0]!.id)) {
      this.cancelled.delete(this.pop()!.id);
    }
  }

  private less(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.id < b.id);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
