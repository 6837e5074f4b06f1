import type { CallControl } from './call/call-control.ts';
import type { Next } from './executor/next.ts';

/**
 * A callflow module: its JSON schema (the one source for validating `data`, filling defaults
 * and documenting it) and a handler that acts only through `call` and says where to go next.
 */
export interface CallflowModule<Data = Record<string, unknown>> {
  readonly name: string;
  /** One line for `callflow --help` and the README. */
  readonly summary: string;
  readonly schema: object;
  handle(data: Data, call: CallControl): Promise<Next>;
}

/** Modules registered by name (as xstate registers implementations): no switch statement anywhere. */
export class ModuleRegistry {
  private readonly modules = new Map<string, CallflowModule<never>>();

  register<D>(mod: CallflowModule<D>): this {
    if (this.modules.has(mod.name)) throw new Error(`module "${mod.name}" is already registered`);
    this.modules.set(mod.name, mod as CallflowModule<never>);
    return this;
  }

  get(name: string): CallflowModule<Record<string, unknown>> | undefined {
    return this.modules.get(name) as CallflowModule<Record<string, unknown>> | undefined;
  }

  names(): string[] {
    return [...this.modules.keys()].sort();
  }
}
