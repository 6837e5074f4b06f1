import { defineConfig } from 'vitest/config';
import { testOutboxDir } from './test/support/outbox-dir.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // SQLite files and child processes: run files in forks, a few at a time.
    pool: 'forks',
    // Messages the CLI runs in tests send by file go to a temporary folder, never into the
    // working tree (tests that care set their own); the folder is removed when the run ends.
    env: { CALLFLOW_OUTBOX_DIR: testOutboxDir() },
    globalSetup: ['test/support/global-setup.ts'],
  },
});
