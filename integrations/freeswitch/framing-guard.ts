import type { EventEmitter } from 'node:events';
import { EslFramingError } from './errors.ts';

/** FreeSWITCH (master) closes a connection whose body Content-Length is outside 0..16 MiB. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** No real header block comes near this (the connect reply is ~4 KB); more means no "\n\n" is coming. */
export const MAX_HEADER_BYTES = 1024 * 1024;

const ENCODED_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * FreeSWITCH's URL-decoding that never throws: runs of valid %XX are decoded as UTF-8 bytes
 * (invalid UTF-8 becomes U+FFFD), a `%` not followed by two hex digits stays literal. modesl
 * uses decodeURIComponent, which throws URIError on a raw `%` inside the socket's data handler
 * and takes the process down (esl-notes pitfall 2). `+` is left alone: FreeSWITCH encodes
 * spaces as %20.
 */
export function safeDecode(value: string): string {
  if (!value.includes('%')) return value;
  return value.replace(ENCODED_RUN, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** The internals of modesl 1.2.1's Parser that the guard replaces per instance. */
interface ParserInternals extends EventEmitter {
  buffer: Buffer;
  bodyLen: number;
  headers: Record<string, string | number>;
  _parseHeaders(): void;
  _parseBody(): void;
  _parseHeaderText(text: string): Record<string, string | number>;
  _parseEvent(headers: Record<string, string | number>, body?: string): void;
}

/** modesl's header-block parsing with a decode that cannot throw and a checked Content-Length. */
export function parseHeaderText(text: string): Record<string, string | number> {
  const headers: Record<string, string | number> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    const key = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : safeDecode(line.slice(i + 2));
    if (key === 'Content-Length') {
      if (!/^\d{1,9}$/.test(value) || Number(value) > MAX_BODY_BYTES) {
        throw new EslFramingError(`Content-Length ${JSON.stringify(value.slice(0, 40))} is not a byte count in 0..${MAX_BODY_BYTES}`);
      }
      headers[key] = Number(value);
    } else {
      headers[key] = value;
    }
  }
  return headers;
}

/**
 * modesl's framing (header block to "\n\n", then Content-Length bytes of body), as a loop: modesl
 * recurses once per message, so a chunk holding thousands of small replies could overflow the
 * stack. Messages are still built and emitted by modesl's own `_parseEvent`.
 */
function drain(this: ParserInternals): void {
  for (;;) {
    if (this.bodyLen > 0) {
      if (this.buffer.length < this.bodyLen) return;
      const body = this.buffer.toString('utf8', 0, this.bodyLen);
      this.buffer = this.buffer.subarray(this.bodyLen);
      this.bodyLen = 0;
      this._parseEvent(this.headers, body);
      continue;
    }
    const end = this.buffer.indexOf('\n\n');
    if (end < 0) {
      if (this.buffer.length > MAX_HEADER_BYTES) throw new EslFramingError(`header block longer than ${MAX_HEADER_BYTES} bytes`);
      return;
    }
    const text = this.buffer.toString('utf8', 0, end);
    this.buffer = this.buffer.subarray(end + 2);
    this.headers = parseHeaderText(text);
    const len = this.headers['Content-Length'];
    if (typeof len === 'number' && len > 0) {
      this.bodyLen = len;
      continue;
    }
    this._parseEvent(this.headers);
  }
}

/**
 * Makes one modesl Parser safe to feed untrusted bytes. The parser runs inside the socket's
 * 'data' handler, so anything it throws is an uncaught exception that kills the process
 * (esl-notes pitfalls 1 and 2). On this instance only (modesl's prototype is untouched), its two
 * parse steps become `drain`, which decodes with `safeDecode`, checks Content-Length, caps the
 * header block, and catches whatever is thrown (a bad frame, or a listener of a parsed message).
 * After a bad frame the byte stream cannot be re-synchronised, so parsing stops for good and
 * `onFatal` is told; the caller closes the connection.
 */
export function guardParser(parser: unknown, onFatal: (err: Error) => void): void {
  const p = parser as ParserInternals;
  let dead = false;
  const step = function (this: ParserInternals): void {
    if (dead) {
      this.buffer = Buffer.alloc(0);
      return;
    }
    try {
      drain.call(this);
    } catch (err) {
      dead = true;
      this.buffer = Buffer.alloc(0);
      this.bodyLen = 0;
      onFatal(err instanceof Error ? err : new Error(String(err)));
    }
  };
  p._parseHeaderText = parseHeaderText;
  p._parseHeaders = step;
  p._parseBody = step;
}
