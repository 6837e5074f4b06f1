import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ask, nextMessage, type CallsReply, type FarReply } from './esl-ipc.ts';

/**
 * Many live calls on one driver, in two child processes: the driver with the engine
 * (esl-calls-process.ts: it inherits this process's core and gets --expose-gc), and the far
 * ends (esl-far-ends.ts), on the other core when taskset can place them there, so that playing
 * FreeSWITCH for every call costs the measured process nothing.
 */

const here = new URL('.', import.meta.url).pathname;

export interface LiveCallsResult {
  readonly calls: number;
  readonly farEndsPinned: boolean;
  /** Heap and RSS (bytes) with no call up (after warm-up calls ended), then with `calls` up. */
  readonly idle: { readonly heapUsed: number; readonly rss: number };
  readonly loaded: { readonly heapUsed: number; readonly rss: number };
  /** ms from a playback's CHANNEL_EXECUTE_COMPLETE written to that call's next sendmsg read, ascending. */
  readonly latencies: number[];
  readonly playbacksPerSecond: number;
  /** The driver process during the sampling window: CPU (fraction of one core), GC pauses. */
  readonly window: { readonly seconds: number; readonly cpu: number; readonly gcMs: number; readonly gcMaxMs: number; readonly majorGcs: number };
  readonly executions: number;
  readonly byEnd: Readonly<Record<string, number>>;
}

export interface LiveCallsPlan {
  readonly calls: number;
  readonly warmupCalls: number;
  readonly warmupMs: number;
  /** Each prompt plays for a random time in this range (ms). */
  readonly promptMs: readonly [number, number];
  /** Held playbacks end at random over this long, then the calls loop. */
  readonly spreadMs: number;
  readonly sampleAfterMs: number;
  readonly sampleForMs: number;
}

function start(args: string[], pin: boolean): ChildProcess {
  const stdio: ['ignore', 'ignore', 'inherit', 'ipc'] = ['ignore', 'ignore', 'inherit', 'ipc'];
  return pin ? spawn('taskset', ['-c', '1', ...args], { stdio }) : spawn(args[0]!, args.slice(1), { stdio });
}

/**
 * 1. warm-up: a few calls loop for a while, then hang up (JIT, SQLite, pools);
 * 2. heap and RSS with no call up;
 * 3. `calls` calls dialled, each answered and then idle in a playback that does not end;
 *    heap and RSS again;
 * 4. the playbacks end and every call plays prompts in a loop; latencies sampled in a window;
 * 5. every caller hangs up; every execution must be in the step log, completed.
 */
export async function benchLiveCalls(plan: LiveCallsPlan): Promise<LiveCallsResult> {
  const farEndsPinned = spawnSync('taskset', ['-c', '1', 'true']).status === 0;
  const node = [process.execPath, ...process.execArgv];
  const engine = start([process.execPath, '--expose-gc', ...process.execArgv, join(here, 'esl-calls-process.ts')], false);
  const far = start([...node, join(here, 'esl-far-ends.ts')], farEndsPinned);
  try {
    const { port } = await nextMessage<Extract<CallsReply, { kind: 'port' }>>(engine, 'driver process start', 30_000);
    type Up = Extract<FarReply, { kind: 'up' }>;
    type Closed = Extract<FarReply, { kind: 'closed' }>;
    type Memory = Extract<CallsReply, { kind: 'memory' }>;

    await ask<Up>(far, { cmd: 'dial', port, calls: plan.warmupCalls, hold: false, promptMs: plan.promptMs }, 30_000);
    await new Promise((r) => setTimeout(r, plan.warmupMs));
    const warmClosed = await ask<Closed>(far, { cmd: 'hangup' }, 30_000);
    const idle = await ask<Memory>(engine, { cmd: 'memory', live: 0, bytesIn: warmClosed.bytesOut }, 60_000);

    const up = await ask<Up>(far, { cmd: 'dial', port, calls: plan.calls, hold: true, promptMs: plan.promptMs }, 60_000);
    const loaded = await ask<Memory>(engine, { cmd: 'memory', live: plan.calls, bytesIn: up.bytesOut }, 60_000);

    const sampled = await ask<Extract<FarReply, { kind: 'sampled' }>>(far, { cmd: 'release', spreadMs: plan.spreadMs, sampleAfterMs: plan.sampleAfterMs, sampleForMs: plan.sampleForMs }, plan.sampleAfterMs + plan.sampleForMs + 30_000);
    if (sampled.calls !== plan.calls) throw new Error(`${sampled.calls} of ${plan.calls} calls were up while sampling`);
    const st = await ask<Extract<CallsReply, { kind: 'stats' }>>(engine, { cmd: 'stats', from: sampled.from, to: sampled.to }, 10_000);
    await ask<Closed>(far, { cmd: 'hangup' }, 60_000);
    const finished = await ask<Extract<CallsReply, { kind: 'finished' }>>(engine, { cmd: 'finish', calls: plan.warmupCalls + plan.calls }, 60_000);
    const notCompleted = Object.entries(finished.byEnd).filter(([k]) => !k.startsWith('completed/'));
    if (notCompleted.length > 0) throw new Error(`executions not completed: ${JSON.stringify(Object.fromEntries(notCompleted))}`);
    return {
      calls: plan.calls,
      farEndsPinned,
      idle: { heapUsed: idle.heapUsed, rss: idle.rss },
      loaded: { heapUsed: loaded.heapUsed, rss: loaded.rss },
      latencies: [...sampled.samples].sort((a, b) => a - b),
      playbacksPerSecond: sampled.playbacks / ((sampled.to - sampled.from) / 1000),
      window: { seconds: (sampled.to - sampled.from) / 1000, cpu: st.cpu, gcMs: st.gcMs, gcMaxMs: st.gcMaxMs, majorGcs: st.majorGcs },
      executions: finished.executions,
      byEnd: finished.byEnd,
    };
  } finally {
    const running = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
    // The far ends serve until told otherwise; the driver process exits by itself after `finish`.
    if (running(far)) far.kill();
    if (running(engine)) await new Promise<void>((resolve) => {
      const timer = setTimeout(() => (engine.kill(), resolve()), 5000);
      engine.once('exit', () => (clearTimeout(timer), resolve()));
    });
  }
}
