// Worker threads do not inherit the tsx loader the CLI registered, so this plain-JS entry
// registers it before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./outbox-worker.ts');
