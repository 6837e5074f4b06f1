import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Parser, { type EslEvent } from 'modesl/lib/esl/Parser.js';
import { readTranscript } from '../integrations/freeswitch/transcript.ts';

// The recorded FreeSWITCH 1.11 sessions live beside the repository (shared/). Missing fixtures
// are a failure, not a skip.
const dir = join(process.cwd(), '..', 'shared', 'fixtures', 'freeswitch');
const transcripts = readdirSync(dir).filter((f) => f.endsWith('.txt') && f !== 'README.md');

/** Splits `data` at seeded random points (1 byte to 2 KiB), like TCP may. */
function chunks(data: Buffer, seed: number): Buffer[] {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: Buffer[] = [];
  for (let pos = 0; pos < data.length; ) {
    const n = 1 + Math.floor(rand() * (rand() < 0.3 ? 8 : 2048));
    out.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/** What modesl makes of a byte stream: one summary per message. */
function parseWithModesl(parts: Buffer[]): string[] {
  const socket = new EventEmitter();
  const parser = new Parser(socket);
  const seen: string[] = [];
  parser.on('esl::event', (e: EslEvent) => {
    seen.push([e.getHeader('Content-Type'), e.getHeader('Event-Name'), e.getHeader('Reply-Text'), e.getHeader('Job-UUID'), e.getBody().length].join('|'));
  });
  for (const p of parts) socket.emit('data', Buffer.from(p));
  return seen;
}

/** The same summary, from our own reading of one recorded message. */
function summary(message: Buffer): { headers: Record<string, string>; body: Buffer } {
  const end = message.indexOf('\n\n');
  const headers: Record<string, string> = {};
  for (const line of message.toString('utf8', 0, end).split('\n')) {
    const i = line.indexOf(': ');
    headers[line.slice(0, i)] = decodeURIComponent(line.slice(i + 2));
  }
  return { headers, body: message.subarray(end + 2) };
}

/** The Event-Name inside an event body, in each of the three formats. */
function eventNameOf(contentType: string, body: Buffer): string {
  const text = body.toString('utf8');
  if (contentType === 'text/event-json') return (JSON.parse(text) as Record<string, string>)['Event-Name']!;
  if (contentType === 'text/event-xml') return decodeURIComponent(/<Event-Name>([^<]*)<\/Event-Name>/.exec(text)![1]!);
  return decodeURIComponent(/^Event-Name: (.*)$/m.exec(text)![1]!);
}

describe('FreeSWITCH transcripts', () => {
  it('are all here', () => {
    expect(existsSync(dir)).toBe(true);
    expect(transcripts.length).toBeGreaterThanOrEqual(20);
    // Each recorded session has its raw byte stream (observers' views have none): the framing
    // tests below are made per stream, so a missing one would drop them without a word.
    const withoutRaw = transcripts.filter((n) => !n.endsWith('.observer-inbound.txt') && !existsSync(join(dir, n.replace(/\.txt$/, '.rx.raw'))));
    expect(withoutRaw).toEqual([]);
  });

  for (const name of transcripts) {
    describe(name, () => {
      const records = readTranscript(join(dir, name));
      const fromServer = records.filter((r) => r.dir === 'S->C');

      it('each server record is exactly one ESL message (headers, blank line, Content-Length body)', () => {
        expect(fromServer.length).toBeGreaterThan(0);
        for (const r of fromServer) {
          const { headers, body } = summary(r.bytes);
          expect(headers['Content-Type'], `#${r.n}`).toBeTruthy();
          expect(body.length, `#${r.n}`).toBe(Number(headers['Content-Length'] ?? 0));
        }
      });

      const raw = join(dir, name.replace(/\.txt$/, '.rx.raw'));
      if (existsSync(raw)) {
        const stream = readFileSync(raw);
        it('the .rx.raw stream is the server records, byte for byte', () => {
          expect(Buffer.concat(fromServer.map((r) => r.bytes)).equals(stream)).toBe(true);
        });

        it("modesl's framing reads it whole and in random chunks, one message per record", () => {
          const whole = parseWithModesl([stream]);
          expect(whole).toHaveLength(fromServer.length);
          for (const seed of [1, 2, 3, 42]) expect(parseWithModesl(chunks(stream, seed))).toEqual(whole);
          // What modesl reports for each message matches our reading of the record: an event's
          // name (modesl builds events from their body), or the envelope's Content-Type.
          whole.forEach((seen, i) => {
            const [type, eventName] = seen.split('|');
            const { headers, body } = summary(fromServer[i]!.bytes);
            const ct = headers['Content-Type']!;
            if (ct.startsWith('text/event-')) expect(eventName, `message ${i + 1}`).toBe(eventNameOf(ct, body));
            else expect(type, `message ${i + 1}`).toBe(ct);
          });
        });
      }
    });
  }
});
