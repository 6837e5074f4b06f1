import { canonicalJson } from '../documents/hash.ts';
import type { PostHangupHandler } from './call-control.ts';

/** KAZOO's {Module, Function, Args} identity: the same module with the same data is the same handler. */
export function handlerKey(module: string, data: unknown): string {
  return `${module}:${canonicalJson(data)}`;
}

/**
 * Erlang's type order, as the JSON values arrive in KAZOO (jiffy/kz_json): number < atom
 * (true, false, null) < tuple (an object, `{Proplist}`) < list (an array) < binary (a string).
 */
function typeRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (v === null || typeof v === 'boolean' || v === undefined) return 1;
  if (typeof v === 'string') return 4;
  return Array.isArray(v) ? 3 : 2;
}

/** Binaries compare bytewise (UTF-8), a prefix first. */
function compareBinaries(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function compareLists(a: readonly unknown[], b: readonly unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareTerms(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** An object's proplist: its [key, value] pairs, keys in canonicalJson's (sorted) order. */
function proplist(o: Record<string, unknown>): [string, unknown][] {
  return Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => [k, o[k]]);
}

/** Erlang's term order on JSON values (as lists:usort sorts them). */
export function compareTerms(a: unknown, b: unknown): number {
  const ta = typeRank(a);
  const tb = typeRank(b);
  if (ta !== tb) return ta - tb;
  switch (ta) {
    case 0:
      return (a as number) - (b as number);
    case 1:
      // Atoms compare by name: false < null < true.
      return compareBinaries(String(a ?? null), String(b ?? null));
    case 2: {
      // {Proplist} against {Proplist}: same size, so the proplists decide, pair by pair ({K, V}: key, then value).
      const pa = proplist(a as Record<string, unknown>);
      const pb = proplist(b as Record<string, unknown>);
      const n = Math.min(pa.length, pb.length);
      for (let i = 0; i < n; i++) {
        const c = compareBinaries(pa[i]![0], pb[i]![0]) || compareTerms(pa[i]![1], pb[i]![1]);
        if (c !== 0) return c;
      }
      return pa.length - pb.length;
    }
    case 3:
      return compareLists(a as unknown[], b as unknown[]);
    default:
      return compareBinaries(a as string, b as string);
  }
}

/** The data a handler's key was made from (handlerKey: `module:canonicalJson(data)`). */
function dataOf(h: PostHangupHandler): unknown {
  const prefix = `${h.module}:`;
  const text = h.key.startsWith(prefix) ? h.key.slice(prefix.length) : h.key;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Handlers to run once the call is over. A set, as KAZOO's add_termination_handler is: an
 * identical handler (same module and data, hence same key) collapses into the first, and they
 * run in KAZOO's usort order, not in the order they were added: by module name, then by data in
 * Erlang term order (9 before 10, "a" before "a b"), not by the key's JSON text.
 */
export class PostHangupHandlers {
  private readonly byKey = new Map<string, PostHangupHandler>();

  /** True if added; false if an identical handler was already registered. */
  add(handler: PostHangupHandler): boolean {
    if (this.byKey.has(handler.key)) return false;
    this.byKey.set(handler.key, handler);
    return true;
  }

  inRunOrder(): PostHangupHandler[] {
    const handlers = [...this.byKey.values()];
    if (handlers.length < 2) return handlers;
    // An object is compared as KAZOO's {Proplist} with its keys in canonical (sorted) order: the
    // order jiffy decodes them in depends on the document's text, which the key deliberately ignores.
    const data = new Map(handlers.map((h) => [h, dataOf(h)]));
    return handlers.sort(
      (a, b) =>
        compareBinaries(a.module, b.module) ||
        compareTerms(data.get(a), data.get(b)) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  }

  get size(): number {
    return this.byKey.size;
  }
}
