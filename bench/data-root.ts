import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Marks `dir` as the top of a directory hierarchy (ext4's `chattr +T`), so the inode allocator
 * puts each new folder in it in a block group of its own choosing (its Orlov spreading) instead of
 * next to its parent. Without it, a run's folder lands beside the inodes the previous run just
 * freed, which the allocator skips for minutes: after one clean-up of 42,000 files, creating a
 * file there still cost 640-860 µs ten minutes later, against 23-28 µs in a folder spread this
 * way at the same moment. Not ext4, or no chattr: nothing happens (the disk probe still guards).
 */
function spreadSubfolders(dir: string): void {
  spawnSync('chattr', ['+T', dir], { stdio: 'ignore' });
}

/**
 * Where the simulated calls write their step logs and WAV files: $CALLFLOW_BENCH_DIR, else
 * `.bench-data/` in the project, as a deployment keeps its data in a folder of its own. Not
 * /tmp: on this VM it shares its ext4 block groups with every test run and CI clone, and after
 * their churn creating a file there cost 180-660 µs against 20-30 µs in the project's folder at
 * the same moment, on the same file system (see the README's "The disk").
 */
export function benchDataRoot(): string {
  const root = process.env.CALLFLOW_BENCH_DIR ?? join(projectRoot, '.bench-data');
  mkdirSync(root, { recursive: true });
  spreadSubfolders(root);
  return root;
}
