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
  /**
   * Account-bundle collections this module owns, each with the JSON schema of one item (for
   * example `notification_templates`): validated, with defaults, when an account loads.
   */
  readonly documents?: Readonly<Record<string, object>>;
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

  /** Every module's account-bundle collections, as [collection, module name, item schema]. */
  documentSchemas(): [string, string, object][] {
    const out: [string, string, object][] = [];
    for (const m of this.modules.values()) for (const [c, schema] of Object.entries(m.documents ?? {})) out.push([c, m.name, schema]);
    return out;
  }

  names(): string[] {
    return [...this.modules.keys()].sort();
  }
}
