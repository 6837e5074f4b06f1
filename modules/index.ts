import { ModuleRegistry } from '../engine/module.ts';
import { callflowModule } from './callflow/index.ts';
import { userModule } from './user/index.ts';

/**
 * The modules this engine ships. `notification` and `voicemail` are not built yet: callflows
 * that use them load with a warning and those nodes are skipped as unknown, as KAZOO would.
 */
export function createRegistry(): ModuleRegistry {
  return new ModuleRegistry().register(userModule).register(callflowModule);
}
