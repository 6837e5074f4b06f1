import { canonicalJson } from '../documents/hash.ts';
import type { PostHangupHandler } from './call-control.ts';

/** KAZOO's {Module, Function, Args} identity: the same module with the same data is the same handler. */
export function handlerKey(module: string, data: unknown): string {
  return `${module}:${canonicalJson(data)}`;
}

/**
 * Handlers to run once the call is over. A set, as KAZOO's add_termination_handler is: an
 * identical handler (same module and data, hence same key) collapses into the first, and they
 * run in key order, not in the order they were added.
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
    return [...this.byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get size(): number {
    return this.byKey.size;
  }
}
