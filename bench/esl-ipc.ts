import type { ChildProcess } from 'node:child_process';

/**
 * Requests and replies between the ESL section and its two child processes (the driver with
 * the engine, and the far ends). A child answers each request with one message, in order.
 */

export type CallsRequest =
  /** Full GC, then heap and RSS, once `live` calls are up and `bytesIn` bytes have been read. */
  | { readonly cmd: 'memory'; readonly live: number; readonly bytesIn: number }
  /** CPU and GC of this process between two instants (performance.timeOrigin + now(), in ms). */
  | { readonly cmd: 'stats'; readonly from: number; readonly to: number }
  /** Waits for every execution to end, checks the step log, stops. */
  | { readonly cmd: 'finish'; readonly calls: number };

export type CallsReply =
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'memory'; readonly heapUsed: number; readonly rss: number; readonly live: number }
  /** `cpu`: process CPU time over wall time; GC pauses as the perf_hooks 'gc' entries give them. */
  | { readonly kind: 'stats'; readonly cpu: number; readonly gcMs: number; readonly gcMaxMs: number; readonly majorGcs: number }
  | { readonly kind: 'finished'; readonly executions: number; readonly byEnd: Readonly<Record<string, number>> }
  | { readonly kind: 'error'; readonly message: string };

export type FarRequest =
  /**
   * Opens `calls` outbound sockets; each prompt plays for a random time in `promptMs` (ms); with
   * `hold`, each call's first playback never ends (until `release`).
   */
  | { readonly cmd: 'dial'; readonly port: number; readonly calls: number; readonly hold: boolean; readonly promptMs: readonly [number, number] }
  /** Ends the held playbacks over `spreadMs`, lets the calls loop, samples latency in a window. */
  | { readonly cmd: 'release'; readonly spreadMs: number; readonly sampleAfterMs: number; readonly sampleForMs: number }
  /** Hangs every call up; replies once every socket is closed. */
  | { readonly cmd: 'hangup' };

export type FarReply =
  /** `bytesOut`: every byte the far ends wrote so far, on all their sockets. */
  | { readonly kind: 'up'; readonly calls: number; readonly bytesOut: number }
  /** `from`/`to`: the window, as performance.timeOrigin + now() (ms), comparable across processes. */
  | { readonly kind: 'sampled'; readonly samples: number[]; readonly playbacks: number; readonly from: number; readonly to: number; readonly calls: number }
  | { readonly kind: 'closed'; readonly bytesOut: number }
  | { readonly kind: 'error'; readonly message: string };

/** The next message of `child`, within `timeoutMs`; an `error` reply or the child's exit rejects. */
export function nextMessage<R extends { kind: string }>(child: ChildProcess, what: string, timeoutMs: number): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: unknown): void => {
      cleanup();
      const r = m as R & { message?: string };
      if (r.kind === 'error') reject(new Error(`${what}: ${r.message}`));
      else resolve(r);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${what}: the process exited (${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export function ask<R extends { kind: string }>(child: ChildProcess, request: CallsRequest | FarRequest, timeoutMs: number): Promise<R> {
  const reply = nextMessage<R>(child, request.cmd, timeoutMs);
  child.send(request);
  return reply;
}

/**
 * In a child: answers requests one at a time; a failure is reported, then the child exits 1.
 * `last` says which request is the final one: the child exits 0 once its reply is sent.
 */
export function serve<Q, A>(handle: (request: Q) => Promise<A>, last: (request: Q) => boolean = () => false): void {
  let chain = Promise.resolve();
  process.on('message', (m) => {
    chain = chain.then(async () => {
      try {
        const reply = await handle(m as Q);
        process.send!(reply, () => {
          if (last(m as Q)) process.exit(0);
        });
      } catch (err) {
        process.send!({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1));
      }
    });
  });
}
