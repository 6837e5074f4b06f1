import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { AccountView } from '../engine/call/account-view.ts';
import { loadAccountBundle } from '../engine/documents/load.ts';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { Router } from '../engine/routing.ts';
import { startOutboundServer } from '../integrations/freeswitch/index.ts';
import { liveEngineDeps } from '../integrations/live/live-deps.ts';
import { LiveEngine } from '../integrations/live/live-engine.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { WalWriteback } from '../integrations/sqlite/wal-writeback.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { createRegistry } from '../modules/index.ts';
import { fullGc } from './esl-gc.ts';
import { serve, type CallsReply, type CallsRequest } from './esl-ipc.ts';
import { promptLoop } from './esl-prompt-loop.ts';
import { recordedDestination } from './esl-recorded.ts';

/**
 * A child process that is `callflow serve` for the benchmark: one outbound server (the
 * driver), every call handed to the engine through LiveEngine (as serve does), a real clock,
 * random ids, a SQLite step log in a temp dir, the shipped module registry plus one bench
 * module, and a callflow that plays prompts in a loop. Started with --expose-gc; it reports
 * heap and RSS on request.
 */

const gc = fullGc();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'cf-bench-esl-'));
const registry = createRegistry().register(promptLoop);
const accountFile = join(dir, 'account.json');
writeFileSync(
  accountFile,
  JSON.stringify({
    account: { id: 'acc-esl-bench', name: 'ESL bench', realm: 'bench.sip.local', timezone: 'UTC' },
    users: [],
    devices: [],
    callflows: [{ id: 'prompt-loop', name: 'Prompts in a loop', numbers: [recordedDestination()], flow: { module: 'bench_prompt_loop', data: { prompt: 'vm-enter_pass' } } }],
  }),
);
const loaded = loadAccountBundle(accountFile, { registry, validator: new SchemaValidator() });
if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));

const db = openDatabase(join(dir, 'steps.db'));
// As `callflow serve` runs it: the WAL flushed in the background (see wal-writeback.ts).
const writeback = WalWriteback.start(db);
const warnings: string[] = [];
const logger = { info() {}, warn: (line: string) => void warnings.push(line) };
const engine = new LiveEngine(
  liveEngineDeps({ registry, sink: new SqliteTraceSink(db), recordingDir: join(dir, 'recordings'), logger }),
  new AccountView(loaded.value),
  new Router(loaded.value.callflows),
  logger,
);
const server = await startOutboundServer({ port: 0, logger }, engine.onCall);

// What this process spends, kept with timestamps so the section can look at its sampling window.
const now = (): number => performance.timeOrigin + performance.now();
const gcs: { at: number; ms: number; major: boolean }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
  }
}).observe({ entryTypes: ['gc'] });
const cpu: { at: number; us: number }[] = [];
setInterval(() => {
  const u = process.cpuUsage();
  cpu.push({ at: now(), us: u.user + u.system });
}, 100).unref();

function stats(from: number, to: number): CallsReply {
  const first = cpu.find((c) => c.at >= from);
  const last = [...cpu].reverse().find((c) => c.at <= to);
  if (!first || !last || last.at <= first.at) throw new Error('stats: no CPU samples in the window');
  const inWindow = gcs.filter((g) => g.at >= from && g.at < to);
  return {
    kind: 'stats',
    cpu: (last.us - first.us) / 1000 / (last.at - first.at),
    gcMs: inWindow.reduce((n, g) => n + g.ms, 0),
    gcMaxMs: inWindow.reduce((n, g) => Math.max(n, g.ms), 0),
    majorGcs: inWindow.filter((g) => g.major).length,
  };
}

async function handle(req: CallsRequest): Promise<CallsReply> {
  if (req.cmd === 'stats') return stats(req.from, req.to);
  if (req.cmd === 'memory') {
    // Every call handed over and running, every byte the far ends wrote read, then a moment
    // for the engine's turns after the last of them.
    const until = Date.now() + 30_000;
    const ready = (): boolean => server.liveCalls().length === req.live && engine.inFlight === req.live && server.wireStats().bytesIn >= req.bytesIn;
    while (!ready()) {
      if (Date.now() > until) {
        throw new Error(`memory: ${server.liveCalls().length} calls live, ${engine.inFlight} executions, ${server.wireStats().bytesIn} of ${req.bytesIn} bytes read`);
      }
      await sleep(20);
    }
    await sleep(300);
    gc();
    gc();
    const m = process.memoryUsage();
    return { kind: 'memory', heapUsed: m.heapUsed, rss: m.rss, live: server.liveCalls().length };
  }
  const left = await engine.drain(30_000);
  if (left > 0) throw new Error(`${left} executions still running 30 s after the last hangup`);
  await server.close();
  const rows = db.prepare('SELECT status, end_reason AS reason, COUNT(*) AS n FROM executions GROUP BY status, end_reason').all() as { status: string; reason: string; n: number }[];
  await writeback.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  if (warnings.length > 0) throw new Error(`${warnings.length} warnings, the first: ${warnings.slice(0, 3).join(' | ')}`);
  const byEnd: Record<string, number> = {};
  let executions = 0;
  for (const r of rows) {
    byEnd[`${r.status}/${r.reason}`] = r.n;
    executions += r.n;
  }
  if (executions !== req.calls) throw new Error(`${executions} executions in the step log, ${req.calls} calls made`);
  return { kind: 'finished', executions, byEnd };
}

serve<CallsRequest, CallsReply>(handle, (req) => req.cmd === 'finish');
process.send!({ kind: 'port', port: server.port } satisfies CallsReply);
