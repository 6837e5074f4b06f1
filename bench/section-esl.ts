import { benchLiveCalls } from './esl-live-calls.ts';
import { benchThroughput } from './esl-throughput.ts';
import { fmt, KB, MB } from './format.ts';
import { percentile } from './stats.ts';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// 1. Event throughput on one connection: the driver against modesl alone, on the same bytes.
const rounds = 3;
const tp = await benchThroughput(2084, rounds);
const s = tp.stream;
console.log(
  `ESL event throughput, one outbound connection, the same stream for both: ${fmt(s.events)} recorded FreeSWITCH JSON events ` +
    `(${fmt(s.bytes.length / 1e6)} MB), one call's ${s.cycle.events} over and over (${s.cycle.names}); ` +
    `${fmt(s.delivered)} reach the engine's listener, the driver drops ${fmt(s.filtered)}`,
);
const drv = median(tp.driver);
const alone = median(tp.modesl);
const runs = (xs: readonly number[]): string => xs.map((x) => fmt(x)).join(' / ');
console.log(
  `  driver ${fmt(drv)} events/s vs modesl alone ${fmt(alone)} events/s: ${fmt((100 * drv) / alone)}% (target ≥ 85%); ` +
    `medians of ${rounds} interleaved runs after a warm-up (driver ${runs(tp.driver)}; modesl ${runs(tp.modesl)})`,
);

// 2 and 3. Many calls up on one driver.
const plan = {
  calls: 1000,
  warmupCalls: 50,
  warmupMs: 1500,
  promptMs: [2000, 4000] as const,
  spreadMs: 3000,
  sampleAfterMs: 3000,
  sampleForMs: 6000,
};
const lc = await benchLiveCalls(plan);
const w = lc.window;
console.log(
  `ESL, ${fmt(lc.calls)} calls up on one driver (outbound sockets, the engine with a SQLite step log; each call answered, then ` +
    `prompts of ${fmt(plan.promptMs[0] / 1000)}–${fmt(plan.promptMs[1] / 1000)} s in a loop: ${fmt(lc.playbacksPerSecond)} playbacks/s, ` +
    `${fmt(2 * lc.playbacksPerSecond)} sendmsgs/s, ${fmt(6 * lc.playbacksPerSecond)} events/s); the far ends in another process${lc.farEndsPinned ? ' on core 1' : ''}`,
);
const l = lc.latencies;
console.log(
  `  latency, CHANNEL_EXECUTE_COMPLETE written → the call's next sendmsg read, ${fmt(l.length)} samples in ${fmt(w.seconds)} s: ` +
    `median ${fmt(percentile(l, 50), 2)} ms, p99 ${fmt(percentile(l, 99), 2)} ms, max ${fmt(l[l.length - 1]!, 1)} ms (target p99 < 5 ms); ` +
    `driver process meanwhile: ${fmt(100 * w.cpu)}% of its core, GC pauses ${fmt(w.gcMs)} ms (longest ${fmt(w.gcMaxMs, 1)} ms, ${fmt(w.majorGcs)} major)`,
);
const kb = (bytes: number): number => bytes / KB / lc.calls;
console.log(
  `  memory per live call, ${fmt(lc.calls)} calls answered and idle in a playback, minus no call (after a full GC): ` +
    `heap ${fmt(kb(lc.loaded.heapUsed - lc.idle.heapUsed))} KB (target < 100 KB)`,
);
console.log(
  `  memory per live call, the same: RSS ${fmt(kb(lc.loaded.rss - lc.idle.rss))} KB (target < 100 KB); ` +
    `driver process ${fmt(lc.idle.rss / MB)} MB RSS with no call, ${fmt(lc.loaded.rss / MB)} MB with ${fmt(lc.calls)}`,
);
