import { UsageError } from '../../engine/errors.ts';

/**
 * `host:port` or `port` from a flag or the environment; a bad value names where it came from.
 * A port to listen on may be 0: any free port (the listening line says which).
 */
export function hostPort(value: string, defaultHost: string, where: string, opts: { readonly anyPort?: boolean } = {}): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?([0-9]{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  const lowest = opts.anyPort ? 0 : 1;
  if (!m || port < lowest || port > 65535) throw new UsageError(`serve: ${where} must be host:port or a port from ${lowest} to 65535 (got ${JSON.stringify(value)})`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? defaultHost, port };
}
