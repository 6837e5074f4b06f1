import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const projectRoot = new URL('..', import.meta.url).pathname;

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
  return root;
}
