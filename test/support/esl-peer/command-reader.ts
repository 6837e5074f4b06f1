import type { Header } from './wire-format.ts';

/**
 * Client-to-server framing as mod_event_socket's read_packet does it: CR/LF before a command are
 * skipped, `\r` is ignored, the header block ends at the second consecutive `\n`, the first line
 * is the command and the others `Name: value` (split at the first `:`, spaces after it skipped,
 * lines without `:` dropped, values never URL-decoded). A Content-Length header makes the next
 * N bytes the body.
 */

export interface ClientCommand {
  /** Every byte this command took on the wire, leading blank lines included. */
  readonly raw: Buffer;
  readonly line: string;
  readonly headers: readonly Header[];
  readonly body: string | null;
}

/** The header block cap (FreeSWITCH: 10 MB) and the body cap (master: 16 MiB); past them the socket is closed. */
export const MAX_HEADER_BYTES = 10 * 1024 * 1024;
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export class CommandFramingError extends Error {}

export function header(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

export class CommandReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the commands they complete. Throws CommandFramingError past the caps. */
  push(chunk: Buffer): ClientCommand[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: ClientCommand[] = [];
    for (;;) {
      const cmd = this.next();
      if (!cmd) break;
      out.push(cmd);
    }
    return out;
  }

  private next(): ClientCommand | null {
    const buf = this.pending;
    let start = 0;
    while (start < buf.length && (buf[start] === 0x0a || buf[start] === 0x0d)) start++;
    let newlines = 0;
    let end = -1;
    for (let i = start; i < buf.length; i++) {
      const b = buf[i];
      if (b === 0x0a) {
        if (++newlines === 2) {
          end = i + 1;
          break;
        }
      } else if (b !== 0x0d) newlines = 0;
    }
    if (end < 0) {
      if (buf.length - start > MAX_HEADER_BYTES) throw new CommandFramingError('header block over 10 MB');
      return null;
    }
    const text = buf.toString('utf8', start, end).replace(/\r/g, '');
    const [line = '', ...rest] = text.split('\n');
    const headers: Header[] = [];
    for (const l of rest) {
      const colon = l.indexOf(':');
      if (colon < 0) continue;
      headers.push([l.slice(0, colon), l.slice(colon + 1).replace(/^ +/, '')]);
    }
    const lengthText = header(headers, 'content-length');
    const length = lengthText === undefined ? 0 : Number.parseInt(lengthText, 10);
    if (Number.isNaN(length) ? false : length < 0 || length > MAX_BODY_BYTES) throw new CommandFramingError(`body Content-Length ${lengthText}`);
    const bodyLength = Number.isNaN(length) ? 0 : length;
    if (buf.length < end + bodyLength) return null;
    const body = bodyLength > 0 ? buf.toString('utf8', end, end + bodyLength) : null;
    this.pending = buf.subarray(end + bodyLength);
    return { raw: Buffer.from(buf.subarray(0, end + bodyLength)), line, headers, body };
  }
}
