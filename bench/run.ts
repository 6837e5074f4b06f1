import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fmt } from './format.ts';

// Each section runs in its own process, so figures (peak memory included) do not mix.
const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const here = new URL('.', import.meta.url).pathname;

function section(file: string, pin: boolean, ...args: string[]): void {
  const node = [process.execPath, '--import', 'tsx', `${here}${file}`, ...args];
  const cmd = pin && canPin ? ['taskset', '-c', '0', ...node] : node;
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench section ${file} failed (exit ${r.status})`);
    process.exitCode = 1;
  }
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GiB; node ${process.version}`);
console.log('');
console.log(canPin ? '[simulated calls: pinned to one core (taskset -c 0)]' : '[simulated calls: not pinned (no taskset)]');
// Each flow in its own process: its peak memory is its own.
for (const flow of ['users', 'seed', 'voicemail', 'voicemail-shm']) section('section-calls.ts', true, flow);
console.log('');
console.log('[outbox: not pinned; the SMTP server process on core 1 when taskset is there]');
section('section-outbox.ts', false);
console.log('');
console.log('[HTML trace view: pinned to one core]');
section('section-html.ts', true);
console.log('');
console.log('[FreeSWITCH over the Event Socket: pinned to one core; the far ends of the 1,000 calls in their own process on core 1 when taskset is there]');
section('section-esl.ts', true);
