
/**
 * Time and ids reach the engine only through these two providers, so a simulation can
 * swap in virtual time and seeded ids and always write the same step log.
 */
/** Structurally xstate's (unexported) `Clock`, so the same clock drives actors' delayed transitions. */
export interface EngineClock {
  setTimeout(fn: (...args: any[]) => void, timeout: number): any;
  clearTimeout(id: any): void;
  /** Milliseconds since the Unix epoch, on this clock's own timeline. */
  now(): number;
}

export interface IdProvider {
  /** A UUID-shaped identifier (channel uuids, Application-UUIDs, execution ids). */
  uuid(): string;
}

export class SystemClock implements EngineClock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    return setTimeout(fn, ms);
  }
  clearTimeout(id: unknown): void {
    clearTimeout(id as NodeJS.Timeout);
  }
}

export class RandomIds implements IdProvider {
  uuid(): string {
    return crypto.randomUUID();
  }
}

/** mulberry32: tiny, fast and good enough to make ids that never depend on the run (32-bit words). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex = (n: number): string => HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;

/** Version-4-shaped uuids drawn from a seeded generator: the same seed gives the same sequence. */
export class SeededIds implements IdProvider {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uuid(): string {
    const a = hex(this.next());
    const b = hex(this.next());
    const c = hex(this.next());
    const d = hex(this.next());
    const variant = ((parseInt(c[0]!, 16) & 0x3) | 0x8).toString(16);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
  }
}

/**
 * Version-7 uuids: a 48-bit millisecond timestamp first, so ids made later sort later. Execution
 * ids are keys of several indexes (executions, outbox, idempotency keys): in time order each new
 * row lands at the right edge of those B-trees, instead of on a random leaf that must be read,
 * split and rewritten. A counter in the next 12 bits keeps ids of the same millisecond in order.
 */
export class TimeOrderedIds implements IdProvider {
  private lastMs = 0;
  private counter = 0;
  // Random words drawn 512 at a time: one getRandomValues per id cost about 1% of a simulated call.
  private readonly pool = new Uint32Array(1024);
  private used = this.pool.length;
  constructor(private readonly clock: { now(): number } = Date) {}
  uuid(): string {
    let ms = this.clock.now();
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      if (++this.counter > 0xfff) {
        // 4,096 ids in one millisecond: borrow the next one rather than break the order.
        ms++;
        this.counter = 0;
      }
    } else {
      this.counter = 0;
    }
    this.lastMs = ms;
    if (this.used === this.pool.length) {
      crypto.getRandomValues(this.pool);
      this.used = 0;
    }
    const r0 = this.pool[this.used++]!;
    const r1 = this.pool[this.used++]!;
    const time = ms.toString(16).padStart(12, '0');
    const variant = (0x8 | (r0 >>> 30)).toString(16);
    const a = hex(r0);
    return (
      `${time.slice(0, 8)}-${time.slice(8)}-7${this.counter.toString(16).padStart(3, '0')}-` +
      `${variant}${a.slice(1, 4)}-${a.slice(4)}${hex(r1)}`
    );
  }
}

/** A wall clock that never moves: tests use it to prove that two runs write identical rows. */
export class FixedClock implements EngineClock {
  constructor(private readonly at: number) {}
  now(): number {
    return this.at;
  }
  setTimeout(): unknown {
    throw new Error('FixedClock cannot schedule timers');
  }
  clearTimeout(): void {}
}
