import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { benchSimulatedCalls } from './simulated-calls.ts';

// "One core": unless already pinned, re-run this script pinned to CPU 0 (taskset, util-linux).
if (process.env.CALLFLOW_BENCH_PINNED !== '1' && spawnSync('taskset', ['-c', '0', 'true']).status === 0) {
  const r = spawnSync('taskset', ['-c', '0', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, CALLFLOW_BENCH_PINNED: '1' },
  });
  process.exit(r.status ?? 1);
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30, 0)} GiB`);
console.log(`node ${process.version}; ${process.env.CALLFLOW_BENCH_PINNED === '1' ? 'pinned to one core (taskset -c 0)' : 'not pinned (no taskset)'}`);
console.log('');
const flows = [
  {
    title: "the seed's example callflow (notification → user → voicemail; notification and voicemail are not built yet, so they are skipped as unknown modules), caller not answered",
    file: '../callflows/example/scenarios/no-answer-voicemail.json',
    steps: 3,
  },
  {
    title: 'three user nodes (no answer 10 s → busy → answered after 12 s, 60 s talk)',
    file: 'fixtures/scenario.json',
    steps: 3,
  },
];
for (const flow of flows) {
  console.log(`simulated calls: ${flow.title}; step log in a SQLite file`);
  const rounds = await benchSimulatedCalls(flow.file, [10_000, 30_000], flow.steps);
  let total = 0;
  for (const r of rounds) {
    total += r.calls;
    console.log(
      `  ${fmt(r.calls).padStart(6)} calls in ${fmt(r.seconds, 2)} s: ${fmt(r.callsPerSecond)} calls/s; ` +
        `peak RSS ${fmt(r.peakRssMb)} MB after ${fmt(total)} calls (heap ${fmt(r.heapMb)} MB, step log ${fmt(r.dbMb)} MB)`,
    );
  }
}
