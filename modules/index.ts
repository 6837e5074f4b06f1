import { ModuleRegistry } from '../engine/module.ts';
import { callflowModule } from './callflow/index.ts';
import { notificationModule } from './notification/index.ts';
import { userModule } from './user/index.ts';
import { voicemailModule } from './voicemail/index.ts';

/** The modules this engine ships, registered by name. */
export function createRegistry(): ModuleRegistry {
  return new ModuleRegistry().register(userModule).register(callflowModule).register(notificationModule()).register(voicemailModule());
}
