import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchSimulatedCalls, removeBenchFiles } from './simulated-calls.ts';
import { cpuProbeMs } from './cpu-probe.ts';
import { benchDataRoot } from './data-root.ts';
import { fmt } from './format.ts';

interface Flow {
  readonly title: string;
  readonly file: string;
  readonly steps: number;
  readonly mediaRoot?: string;
}

const flows: Record<string, Flow> = {
  seed: {
    title:
      "the seed's example callflow (notification at channel_destroy → user → voicemail), nobody answers, the caller leaves a 5 s message; each call stores a message and its WAV and queues three emails",
    file: 'fixtures/seed-scenario.json',
    steps: 3,
  },
  voicemail: {
    title: 'voicemail compose alone: greeting, beep, a 5 s message kept with its WAV file, voicemail-to-email queued; audio files on disk',
    file: 'fixtures/vm-scenario.json',
    steps: 1,
  },
  'voicemail-shm': {
    title: 'voicemail compose alone, the same, with the audio files in /dev/shm (memory-backed) and the step log on disk',
    file: 'fixtures/vm-scenario.json',
    steps: 1,
    mediaRoot: process.env.CALLFLOW_BENCH_SHM ?? '/dev/shm',
  },
  users: {
    title: 'three user nodes (no answer 10 s → busy → answered after 12 s, 60 s talk)',
    file: 'fixtures/scenario.json',
    steps: 3,
  },
};

/**
 * What creating one empty file costs on the disk folder right now. On this VM it swings from
 * ~20 µs to ~800 µs: the disk is ext4 without a journal, which for minutes skips recently deleted
 * inodes when it allocates one (perf shows the time in the kernel's recently_deleted()). A small
 * probe: its own files are deleted too.
 */
function fileCreationMicros(root: string, n = 500): number {
  const dir = mkdtempSync(join(root, 'cf-probe-'));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) closeSync(openSync(join(dir, `${i}.wav`), 'w'));
  const us = ((performance.now() - t0) * 1000) / n;
  if (!process.env.CALLFLOW_BENCH_FILES_KEPT) rmSync(dir, { recursive: true, force: true });
  return us;
}

/**
 * The file-creation cost once the disk is past any recent mass deletion: the kernel skips inodes
 * freed in the last minutes, so right after one (another run's clean-up, say) every file costs
 * ten times more, and a compose flow run at 60-70 µs per file instead of 20-25 came out 15-30%
 * slower. Waits up to ten minutes, saying so, rather than measure that.
 */
async function quietDisk(root: string): Promise<number> {
  const waitUntil = Date.now() + 10 * 60_000;
  let us = fileCreationMicros(root);
  if (us > SLOW_FILE_US) console.log(`  (creating an empty file costs ${fmt(us)} µs: many files were deleted or made here in the last minutes; waiting for the disk)`);
  while (us > SLOW_FILE_US && Date.now() < waitUntil) {
    await new Promise((r) => setTimeout(r, 15_000));
    us = fileCreationMicros(root);
  }
  if (us > SLOW_FILE_US) console.log(`  (still ${fmt(us)} µs after ten minutes: measuring anyway)`);
  return us;
}

/** A settled disk here creates a file in 20-30 µs. */
const SLOW_FILE_US = 40;
const WARMUP_CALLS = 2_000;

// One flow per process (bench/run.ts passes its name), so each flow's peak memory is its own.
const name = process.argv[2] ?? 'users';
const flow = flows[name];
if (!flow) throw new Error(`unknown flow "${name}" (${Object.keys(flows).join(', ')})`);
if (flow.mediaRoot && !existsSync(flow.mediaRoot)) {
  console.log(`simulated calls: ${flow.title}: skipped, no ${flow.mediaRoot} here`);
} else {
  const disk = benchDataRoot();
  console.log(`simulated calls: ${flow.title}; step log in a SQLite file`);
  if (name.startsWith('voicemail')) console.log(`  (creating an empty file in ${disk} costs ${fmt(await quietDisk(disk))} µs right now)`);
  console.log(`  (a fixed CPU workload takes ${fmt(cpuProbeMs(), 1)} ms on this core right now: see the README for what it takes in this machine's faster and slower moments)`);
  // The first calls of a process run while V8 is still compiling the hot paths (the first 2,000
  // run at half to two thirds of the later rate): they are a warm-up, reported but not one of the
  // measured rounds, as the ESL sections do. Their step log, files and memory stay in the figures.
  const rounds = await benchSimulatedCalls(flow.file, [WARMUP_CALLS, 10_000, 30_000], flow.steps, flow.mediaRoot ? { mediaRoot: flow.mediaRoot } : {});
  let total = 0;
  for (const [i, r] of rounds.entries()) {
    total += r.calls;
    console.log(
      `  ${fmt(r.calls).padStart(6)} calls in ${fmt(r.seconds, 2)} s: ${fmt(r.callsPerSecond)} calls/s${i === 0 ? ' (warm-up, not a measured round)' : ''}; ` +
        `peak RSS ${fmt(r.peakRssMb)} MB after ${fmt(total)} calls (heap ${fmt(r.heapMb)} MB, step log ${fmt(r.dbMb)} MB)` +
        (r.messages > 0 ? `; ${fmt(r.messages)} voicemail messages, ${fmt(r.mediaMb)} MB of WAV` : ''),
    );
  }
  // Run by bench/run.ts, the files stay until every section is done (see there).
  if (!process.env.CALLFLOW_BENCH_FILES_KEPT) removeBenchFiles();
}
