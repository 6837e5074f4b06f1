import { ModuleRegistry } from '../engine/module.ts';
import { callflowModule } from './callflow/index.ts';
import { notificationModule } from './notification/index.ts';
import { userModule } from './user/index.ts';

/**
 * The modules this engine ships. `voicemail` is not built yet: callflows that use it load with
 * a warning and its nodes are skipped as unknown, as KAZOO would.
 */
export function createRegistry(): ModuleRegistry {
  return new ModuleRegistry().register(userModule).register(callflowModule).register(notificationModule());
}
