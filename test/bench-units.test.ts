import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { benchSimulatedCalls, removeBenchFiles } from '../bench/simulated-calls.ts';

// The bench's data folder for this test only, inside the worktree.
const root = mkdtempSync(join(fileURLToPath(new URL('..', import.meta.url)), '.review-bench-'));
process.env.CALLFLOW_BENCH_DIR = root;
afterAll(() => {
  vi.restoreAllMocks();
  removeBenchFiles();
  rmSync(root, { recursive: true, force: true });
});

describe('bench: peak RSS of the simulated-calls flows', () => {
  it('is reported in MB (10^6 bytes), the unit its label, the heap and step-log figures beside it and the 200 MB target use', async () => {
    // Node's resourceUsage().maxRSS is ru_maxrss: kibibytes on Linux. 195,313 KiB = 200,000,512 bytes = 200.0 MB.
    const real = process.resourceUsage.bind(process);
    vi.spyOn(process, 'resourceUsage').mockImplementation(() => ({ ...real(), maxRSS: 195_313 }));
    const [round] = await benchSimulatedCalls('fixtures/scenario.json', [20], 3);
    // bench/simulated-calls.ts divides by 1024 (MiB) and prints "MB": 190.7 for a 200.0 MB peak.
    expect(round!.peakRssMb).toBeCloseTo(200.0, 1);
  }, 60_000);
});
