import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchDataRoot } from './data-root.ts';
import { fmt } from './format.ts';

// Each section runs in its own process, so figures (peak memory included) do not mix.
const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const here = new URL('.', import.meta.url).pathname;

/**
 * Every file the simulated calls write stays until the whole bench is done. This VM's disk is
 * ext4 without a journal: for minutes after many files are deleted, creating a file scans past
 * the recently deleted inodes (the kernel's recently_deleted check), so one flow's cleanup would
 * make the next flow's file creations several times dearer.
 */
// Each section takes this folder as its data root, which spreads the flows' folders in it too.
const diskRoot = mkdtempSync(join(benchDataRoot(), 'cf-bench-run-'));
const shmRoot = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/cf-bench-run-') : undefined;
const sectionEnv = {
  ...process.env,
  CALLFLOW_BENCH_DIR: diskRoot,
  CALLFLOW_BENCH_FILES_KEPT: '1',
  ...(shmRoot ? { CALLFLOW_BENCH_SHM: shmRoot } : {}),
};

/** As `callflow` runs (its shebang): an 8 MB young generation, no allocation-site pretenuring. */
const CLI_NODE_FLAGS = ['--max-semi-space-size=8', '--no-allocation-site-pretenuring'];

function section(file: string, pin: boolean, ...args: string[]): void {
  const node = [process.execPath, ...CLI_NODE_FLAGS, '--import', 'tsx', `${here}${file}`, ...args];
  const cmd = pin && canPin ? ['taskset', '-c', '0', ...node] : node;
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env: sectionEnv });
  if (r.status !== 0) {
    console.error(`bench section ${file} failed (exit ${r.status})`);
    process.exitCode = 1;
  }
}

/**
 * Each flow writes hundreds of megabytes; without this the next flow would run while the kernel
 * writes them back, paying for its predecessor's I/O.
 */
function flushDisk(): void {
  const t0 = performance.now();
  if (spawnSync('sync').status === 0) console.log(`  (earlier sections' writes flushed to disk first: ${fmt((performance.now() - t0) / 1000, 1)} s)`);
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GiB; node ${process.version}`);
console.log('');
// The latency sections first, on a quiet disk: the simulated calls leave gigabytes of step logs
// and audio behind (kept until the end, see above).
console.log('[FreeSWITCH over the Event Socket: pinned to one core; the far ends of the 1,000 calls in their own process on core 1 when taskset is there]');
section('section-esl.ts', true);
console.log('');
console.log('[outbox: not pinned; the SMTP server process on core 1 when taskset is there]');
section('section-outbox.ts', false);
console.log('');
console.log('[HTML trace view: pinned to one core]');
section('section-html.ts', true);
console.log('');
console.log(canPin ? '[simulated calls: pinned to one core (taskset -c 0)]' : '[simulated calls: not pinned (no taskset)]');
// Each flow in its own process: its peak memory is its own.
for (const flow of ['users', 'seed', 'voicemail', 'voicemail-shm']) {
  flushDisk();
  section('section-calls.ts', true, flow);
}

for (const root of [diskRoot, shmRoot]) if (root) rmSync(root, { recursive: true, force: true });
