import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SchemaValidator } from '../engine/documents/validator.ts';
import type { Outbox } from '../engine/outbox.ts';
import { messageIdFor } from '../integrations/notify/transport.ts';
import { startOutboxWorker } from '../integrations/notify/worker-client.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { runScenario } from '../integrations/simulator/run-scenario.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { createRegistry } from '../modules/index.ts';
import { percentile } from './stats.ts';

const here = new URL('.', import.meta.url).pathname;

interface Sink {
  readonly port: number;
  readonly accepted: Map<string, number>;
  readonly child: ChildProcess;
  waitFor(n: number, timeoutMs: number): Promise<void>;
}

/** Starts the SMTP sink in another process, on the other core when taskset can place it. */
async function startSink(): Promise<Sink> {
  const args = [process.execPath, ...process.execArgv, join(here, 'smtp-sink.ts')];
  const pinned = spawnSync('taskset', ['-c', '1', 'true']).status === 0;
  const child = pinned ? spawn('taskset', ['-c', '1', ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const accepted = new Map<string, number>();
  let waiter: (() => void) | undefined;
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, a, b] = line.split(' ');
      if (kind === 'port') resolve(Number(a));
      if (kind === 'ok') {
        accepted.set(a!, Number(b));
        waiter?.();
      }
    });
  });
  return {
    port,
    accepted,
    child,
    async waitFor(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (accepted.size < n && Date.now() < deadline) await new Promise<void>((r) => ((waiter = r), setTimeout(r, 20)));
      if (accepted.size < n) throw new Error(`SMTP sink got ${accepted.size} of ${n} messages`);
    },
  };
}

export interface OutboxBench {
  readonly messages: number;
  readonly perSecond: number;
  readonly calls: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * 1. Throughput: `messages` emails queued in the outbox at once, delivered to the loopback SMTP
 *    sink; time from the first enqueue to the last acceptance.
 * 2. Latency: `calls` simulated calls at a steady rate (after 200 unmeasured warm-up calls),
 *    each with a channel_destroy notification; per message, wall time from the post-hangup
 *    handler queueing it (right after CHANNEL_DESTROY, in the same turn) to the sink accepting it.
 */
export async function benchOutbox(messages: number, calls: number, callsPerSecond: number): Promise<OutboxBench> {
  const sink = await startSink();
  const dir = mkdtempSync(join(tmpdir(), 'cf-bench-outbox-'));
  try {
    const db = openDatabase(join(dir, 'log.db'));
    // As `callflow simulate` runs it: enqueue on this thread, delivery on the outbox worker.
    const rt = await startOutboxWorker(db, {
      dbFile: join(dir, 'log.db'),
      notifications: { email: { kind: 'smtp', url: `smtp://127.0.0.1:${sink.port}`, insecureTls: false }, sms: { kind: 'files', dir: join(dir, 'sms') } },
      concurrency: 16,
    });

    const t0 = performance.now();
    const batch = Array.from({ length: messages }, (_, i) => ({
      idempotencyKey: `bench|${i}`,
      medium: 'email' as const,
      recipient: `r${i}@bench.test`,
      templateId: 'bench',
      nodeKey: 'bench',
      email: { from: 'pbx@bench.test', to: [`r${i}@bench.test`], cc: [], subject: `bench ${i}`, text: 'hello' },
    }));
    for (let i = 0; i < batch.length; i += 100) rt.outbox.enqueue(`bench-${i}`, 0, batch.slice(i, i + 100));
    await sink.waitFor(messages, 120_000);
    const seconds = (performance.now() - t0) / 1000;

    // Latency: calls through a callflow whose only node sends at channel_destroy.
    const registry = createRegistry();
    const loaded = loadScenario(join(here, 'fixtures/notify-scenario.json'), { registry, validator: new SchemaValidator() });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
    const queuedAt = new Map<string, number>();
    const timed: Outbox = {
      enqueue(executionId, callTime, msgs) {
        const now = Date.now();
        for (const m of msgs) queuedAt.set(messageIdFor(m.idempotencyKey), now);
        return rt.outbox.enqueue(executionId, callTime, msgs);
      },
    };
    // Live-like: each execution committed as it ends. The first calls warm the code up
    // (JIT, template parsing, pooled SMTP connections) and are not measured.
    const traceSink = new SqliteTraceSink(db);
    const warmup = 200;
    const before = sink.accepted.size;
    const start = Date.now();
    for (let i = 0; i < warmup + calls; i++) {
      const due = start + (i * 1000) / callsPerSecond;
      if (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
      if (i === warmup) queuedAt.clear();
      await runScenario({ ...loaded.value, scenario: { ...loaded.value.scenario, seed: i + 1 } }, { registry, sink: traceSink, outbox: timed });
    }
    await sink.waitFor(before + warmup + calls, 60_000);
    const lat = [...queuedAt].map(([id, at]) => sink.accepted.get(id)! - at);
    await rt.worker.close();
    db.close();
    return {
      messages,
      perSecond: messages / seconds,
      calls,
      medianMs: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      maxMs: Math.max(...lat),
    };
  } finally {
    sink.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
