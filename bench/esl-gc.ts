import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection: `global.gc` when node runs with --expose-gc, otherwise the same
 * function obtained by setting that flag now (v8) and reading `gc` from a fresh context.
 */
export function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  if (typeof gc !== 'function') throw new Error('cannot reach the garbage collector (run node with --expose-gc)');
  return gc;
}
