import { urlDecode } from './url-encoding.ts';
import { GOODBYE, RUDE_REJECTION, type EventFormat, type Header, type ServerFrame } from './wire-format.ts';

/**
 * The reading side of wire-format.ts: splits a server byte stream into messages and turns one
 * message back into the ServerFrame that encodes to it. Tests use it to check the encoder
 * against the recorded FreeSWITCH sessions and to read what the peer sends.
 */

const LFLF = Buffer.from('\n\n');

/** Whole messages out of a stream cut anywhere: header block to the first empty line, then Content-Length bytes. */
export class MessageSplitter {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const end = this.buf.indexOf(LFLF);
      if (end < 0) break;
      const m = /^Content-Length: (\d+)$/m.exec(this.buf.toString('latin1', 0, end));
      const total = end + 2 + (m ? Number(m[1]) : 0);
      if (this.buf.length < total) break;
      out.push(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
    }
    return out;
  }
}

/** `Name: value` lines, values as written (no decoding). */
export function headerLines(text: string): Header[] | null {
  if (text === '') return [];
  const out: Header[] = [];
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i <= 0) return null;
    out.push([line.slice(0, i), line.slice(i + 2)]);
  }
  return out;
}

export type Decoded = { readonly ok: true; readonly frame: ServerFrame } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): Decoded => ({ ok: false, reason });
const names = (h: readonly Header[]): string => h.map(([n]) => n).join(',');

export function decodeFrame(message: Buffer): Decoded {
  const text = message.toString('utf8');
  const end = text.indexOf('\n\n');
  if (end < 0) return fail('no empty line');
  const env = headerLines(text.slice(0, end));
  if (!env) return fail('malformed envelope line');
  const body = text.slice(end + 2);
  const type = env.find(([n]) => n === 'Content-Type')?.[1];
  switch (type) {
    case 'auth/request':
      return env.length === 1 && body === '' ? { ok: true, frame: { kind: 'auth-request' } } : fail('auth/request with extra parts');
    case 'command/reply':
      return env[0]?.[0] === 'Event-Name' ? connectReply(env, body) : commandReply(env, body);
    case 'api/response':
      if (names(env) !== 'Content-Type,Content-Length') return fail(`api/response headers ${names(env)}`);
      return { ok: true, frame: { kind: 'api-response', body } };
    case 'text/event-plain':
    case 'text/event-json':
    case 'text/event-xml':
      if (names(env) !== 'Content-Length,Content-Type') return fail(`event envelope ${names(env)}`);
      return eventFrame(type.slice('text/event-'.length) as EventFormat, body);
    case 'text/disconnect-notice':
      return disconnect(env, body);
    case 'text/rude-rejection':
      return names(env) === 'Content-Type,Content-Length' && body === RUDE_REJECTION ? { ok: true, frame: { kind: 'rude-rejection' } } : fail('unexpected rejection');
    case 'log/data':
      return logFrame(env, body);
    default:
      return fail(`content type ${String(type)}`);
  }
}

function commandReply(env: readonly Header[], body: string): Decoded {
  if (body !== '') return fail('command/reply with a body');
  const n = names(env);
  if (n === 'Content-Type,Reply-Text') return { ok: true, frame: { kind: 'command-reply', text: env[1]![1] } };
  if (n === 'Content-Type,Reply-Text,Job-UUID') return { ok: true, frame: { kind: 'command-reply', text: env[1]![1], jobUuid: env[2]![1] } };
  return fail(`command/reply headers ${n}`);
}

function connectReply(env: readonly Header[], body: string): Decoded {
  if (body !== '') return fail('connect reply with a body');
  const decoded = env.map(([n, v]): Header => [n, v === '_undef_' ? '' : urlDecode(v)]);
  const tail = decoded.slice(-4);
  const [ct, rt, mode, control] = tail.map(([, v]) => v);
  if (names(tail) !== 'Content-Type,Reply-Text,Socket-Mode,Control' || ct !== 'command/reply' || rt !== '+OK\n') return fail('connect reply tail');
  if ((mode !== 'async' && mode !== 'static') || (control !== 'full' && control !== 'single-channel')) return fail('connect reply mode');
  return { ok: true, frame: { kind: 'connect-reply', headers: decoded.slice(0, -4), socketMode: mode, control } };
}

function disconnect(env: readonly Header[], body: string): Decoded {
  const n = names(env);
  if (n === 'Content-Type,Content-Length' && body === GOODBYE) return { ok: true, frame: { kind: 'disconnect-notice' } };
  if (n === 'Content-Type,Controlled-Session-UUID,Content-Disposition,Content-Length' && env[2]![1] === 'disconnect' && body === GOODBYE) {
    return { ok: true, frame: { kind: 'disconnect-notice', sessionUuid: env[1]![1] } };
  }
  if (n === 'Content-Type,Controlled-Session-UUID,Content-Disposition,Channel-Name,Linger-Time,Content-Length' && env[2]![1] === 'linger' && body === '') {
    return { ok: true, frame: { kind: 'linger-notice', sessionUuid: env[1]![1], channelName: env[3]![1], lingerSeconds: Number(env[4]![1]) } };
  }
  return fail(`disconnect notice ${n}`);
}

function logFrame(env: readonly Header[], body: string): Decoded {
  const n = names(env);
  if (!n.startsWith('Content-Type,Content-Length,Log-Level,Text-Channel,Log-File,Log-Func,Log-Line')) return fail(`log headers ${n}`);
  const v = env.map(([, value]) => value);
  const userData = env.length === 8 && env[7]![0] === 'User-Data' ? v[7] : undefined;
  if (env.length !== (userData === undefined ? 7 : 8)) return fail(`log headers ${n}`);
  return {
    ok: true,
    frame: { kind: 'log', level: Number(v[2]), textChannel: Number(v[3]), file: v[4]!, func: v[5]!, line: Number(v[6]), ...(userData === undefined ? {} : { userData }), body },
  };
}

function eventFrame(format: EventFormat, body: string): Decoded {
  const parsed = format === 'plain' ? plainEvent(body) : format === 'json' ? jsonEvent(body) : xmlEvent(body);
  if ('reason' in parsed) return fail(parsed.reason);
  return { ok: true, frame: { kind: 'event', format, headers: parsed.headers, ...(parsed.body === undefined ? {} : { body: parsed.body }) } };
}

type EventParts = { headers: Header[]; body?: string } | { reason: string };

function plainEvent(text: string): EventParts {
  const end = text.indexOf('\n\n');
  if (end < 0) return { reason: 'plain event without an empty line' };
  const raw = headerLines(text.slice(0, end));
  if (!raw) return { reason: 'malformed plain event line' };
  const rest = text.slice(end + 2);
  let headers = raw;
  let body: string | undefined;
  const last = raw[raw.length - 1];
  if (rest !== '') {
    // The serializer's own Content-Length line closes the header block when there is a body.
    if (!last || last[0] !== 'Content-Length' || Number(last[1]) !== Buffer.byteLength(rest)) return { reason: 'plain event body without its length' };
    headers = raw.slice(0, -1);
    body = rest;
  }
  return { headers: headers.map(([n, v]): Header => [n, v === '_undef_' ? '' : urlDecode(v)]), ...(body === undefined ? {} : { body }) };
}

/** A flat JSON object of strings, duplicate keys and their order kept (JSON.parse would merge them). */
function jsonEvent(text: string): EventParts {
  const members: Header[] = [];
  let i = 0;
  const str = (): string | null => {
    if (text[i] !== '"') return null;
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) return null;
    const s = JSON.parse(text.slice(i, j + 1)) as string;
    i = j + 1;
    return s;
  };
  if (text[i++] !== '{') return { reason: 'json event is not an object' };
  while (text[i] !== '}') {
    const k = str();
    if (k === null || text[i++] !== ':') return { reason: 'json event key' };
    const v = str();
    if (v === null) return { reason: `json value of ${k} is not a string` };
    members.push([k, v]);
    if (text[i] === ',') i++;
    else if (text[i] !== '}') return { reason: 'json event separator' };
  }
  if (i !== text.length - 1) return { reason: 'bytes after the json event' };
  const n = members.length;
  if (n >= 2 && members[n - 1]![0] === '_body' && members[n - 2]![0] === 'Content-Length') {
    return { headers: members.slice(0, -2), body: members[n - 1]![1] };
  }
  if (members.some(([k]) => k === '_body')) return { reason: 'json _body not at the end' };
  return { headers: members };
}

function xmlEvent(text: string): EventParts {
  const m = /^<event>\n {2}<headers>\n([\s\S]*) {2}<\/headers>\n<\/event>\n$/.exec(text);
  if (!m) return { reason: 'xml event outside the recorded shape (a body, or other layout)' };
  const headers: Header[] = [];
  for (const line of m[1]!.split('\n').slice(0, -1)) {
    const h = /^ {4}<([^>\s]+)>([^<]*)<\/([^>\s]+)>$/.exec(line);
    if (!h || h[1] !== h[3]) return { reason: `xml header line ${line.slice(0, 40)}` };
    headers.push([h[1]!, urlDecode(h[2]!)]);
  }
  return { headers };
}
