import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the CLI runs in tests send messages by file (one folder per test run, removed after it). */
export const testOutboxDir = (): string => join(tmpdir(), `callflow-test-outbox-${process.pid}`);
