import { urlEncode } from './url-encoding.ts';

/**
 * Server-to-client messages as FreeSWITCH 1.11 writes them (mod_event_socket.c and
 * switch_event.c), byte for byte. Every message is a header block ended by an empty line, then
 * exactly Content-Length bytes of body. Which header values are URL-encoded depends on the
 * message: envelopes built with snprintf are raw, serialized events (and the connect reply,
 * which is one) are encoded.
 */

/** One header. Events are ordered lists because names repeat (Hangup-Cause twice, CODEC twins). */
export type Header = readonly [name: string, value: string];

export type EventFormat = 'plain' | 'json' | 'xml';

export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
export const RUDE_REJECTION = 'Access Denied, go away.\n';

export type ServerFrame =
  | { readonly kind: 'auth-request' }
  /** `command/reply`: header-only, the result in Reply-Text (raw); bgapi adds Job-UUID. */
  | { readonly kind: 'command-reply'; readonly text: string; readonly jobUuid?: string }
  /** The outbound `connect` reply: a serialized CHANNEL_DATA event that is also a command/reply. */
  | { readonly kind: 'connect-reply'; readonly headers: readonly Header[]; readonly socketMode: 'async' | 'static'; readonly control: 'full' | 'single-channel' }
  | { readonly kind: 'api-response'; readonly body: string }
  | { readonly kind: 'event'; readonly format: EventFormat; readonly headers: readonly Header[]; readonly body?: string }
  /** The goodbye notice; outbound sockets name their session. */
  | { readonly kind: 'disconnect-notice'; readonly sessionUuid?: string }
  /** Sent once when the controlled channel hangs up and the client asked to linger (-1: until it leaves). */
  | { readonly kind: 'linger-notice'; readonly sessionUuid: string; readonly channelName: string; readonly lingerSeconds: number }
  | { readonly kind: 'rude-rejection' }
  | {
      readonly kind: 'log';
      readonly level: number;
      readonly textChannel: number;
      readonly file: string;
      readonly func: string;
      readonly line: number;
      readonly userData?: string;
      readonly body: string;
    };

const lines = (headers: readonly Header[]): string => headers.map(([n, v]) => `${n}: ${v}\n`).join('');
const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** switch_event_serialize: encoded values, `_undef_` for empty ones, the body after its own Content-Length. */
function plainBody(headers: readonly Header[], body: string | undefined): string {
  let out = '';
  for (const [name, value] of headers) out += `${name}: ${value === '' ? '_undef_' : urlEncode(value)}\n`;
  return body ? `${out}Content-Length: ${bytes(body)}\n\n${body}` : `${out}\n`;
}

/** switch_event_serialize_json (cJSON, unformatted): raw string values, duplicate keys kept, body in `_body`. */
function jsonBody(headers: readonly Header[], body: string | undefined): string {
  const members = headers.map(([n, v]) => `${JSON.stringify(n)}:${JSON.stringify(v)}`);
  if (body) members.push(`"Content-Length":${JSON.stringify(String(bytes(body)))}`, `"_body":${JSON.stringify(body)}`);
  return `{${members.join(',')}}`;
}

const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** switch_event_xmlize + switch_xml_toxml: two-space indentation, values still URL-encoded. */
function xmlBody(headers: readonly Header[], body: string | undefined): string {
  const items = headers.map(([n, v]) => `    <${n}>${v === '' ? '' : urlEncode(v)}</${n}>\n`).join('');
  const bodyPart = body ? `  <body>${xmlText(body)}</body>\n` : '';
  return `<event>\n  <headers>\n${items}  </headers>\n${bodyPart}</event>\n`;
}

export function serializeEvent(format: EventFormat, headers: readonly Header[], body?: string): string {
  if (format === 'json') return jsonBody(headers, body);
  if (format === 'xml') return xmlBody(headers, body);
  return plainBody(headers, body);
}

function withBody(head: string, body: string): string {
  return `${head}Content-Length: ${bytes(body)}\n\n${body}`;
}

export function encodeFrame(f: ServerFrame): Buffer {
  return Buffer.from(frameText(f), 'utf8');
}

function frameText(f: ServerFrame): string {
  switch (f.kind) {
    case 'auth-request':
      return 'Content-Type: auth/request\n\n';
    case 'command-reply':
      return `Content-Type: command/reply\nReply-Text: ${f.text}\n${f.jobUuid === undefined ? '' : `Job-UUID: ${f.jobUuid}\n`}\n`;
    case 'connect-reply': {
      const tail: Header[] = [
        ['Content-Type', 'command/reply'],
        ['Reply-Text', '+OK\n'],
        ['Socket-Mode', f.socketMode],
        ['Control', f.control],
      ];
      return plainBody([...f.headers, ...tail], undefined);
    }
    case 'api-response':
      // FreeSWITCH replaces an empty API output with this text (api_exec).
      return `Content-Type: api/response\n${withBody('', f.body === '' ? '-ERR no reply\n' : f.body)}`;
    case 'event': {
      const body = serializeEvent(f.format, f.headers, f.body);
      return `Content-Length: ${bytes(body)}\nContent-Type: text/event-${f.format}\n\n${body}`;
    }
    case 'disconnect-notice': {
      const session = f.sessionUuid === undefined ? '' : `Controlled-Session-UUID: ${f.sessionUuid}\nContent-Disposition: disconnect\n`;
      return withBody(`Content-Type: text/disconnect-notice\n${session}`, GOODBYE);
    }
    case 'linger-notice':
      return (
        `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${f.sessionUuid}\nContent-Disposition: linger\n` +
        `Channel-Name: ${f.channelName}\nLinger-Time: ${f.lingerSeconds}\nContent-Length: 0\n\n`
      );
    case 'rude-rejection':
      return withBody('Content-Type: text/rude-rejection\n', RUDE_REJECTION);
    case 'log': {
      const head: Header[] = [
        ['Log-Level', String(f.level)],
        ['Text-Channel', String(f.textChannel)],
        ['Log-File', f.file],
        ['Log-Func', f.func],
        ['Log-Line', String(f.line)],
      ];
      if (f.userData !== undefined) head.push(['User-Data', f.userData]);
      return `Content-Type: log/data\nContent-Length: ${bytes(f.body)}\n${lines(head)}\n${f.body}`;
    }
  }
}
