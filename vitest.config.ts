import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // SQLite files and child processes: run files in forks, a few at a time.
    pool: 'forks',
    // Messages the CLI runs in tests send by file go to a temporary folder, never into the
    // working tree (tests that care set their own).
    env: { CALLFLOW_OUTBOX_DIR: join(tmpdir(), `callflow-test-outbox-${process.pid}`) },
  },
});
