import { rmSync } from 'node:fs';
import { testOutboxDir } from './outbox-dir.ts';

/** Runs in vitest's main process, as the config does, so both name the same folder. */
export default function setup(): () => void {
  return () => rmSync(testOutboxDir(), { recursive: true, force: true });
}
