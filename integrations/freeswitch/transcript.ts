import { readFileSync } from 'node:fs';

/** One record of a recorded Event Socket session (../shared/fixtures/freeswitch/README.md). */
export interface TranscriptRecord {
  readonly dir: 'S->C' | 'C->S' | 'NOTE';
  /** The record number (NOTE lines have none). */
  readonly n: number | null;
  /** Seconds since the start of the capture. */
  readonly at: number;
  /** The exact bytes on the wire (NOTE: the note's text). */
  readonly bytes: Buffer;
}

const MARKER = /^### (S->C|C->S) #(\d+) \+([\d.]+)s len=(\d+)$/;
const NOTE = /^### NOTE \+([\d.]+)s (.*)$/;

/**
 * Reads a transcript: a marker line, then exactly `len` bytes, then the one "\n" the recorder
 * added. `len` is authoritative (payloads may lack a trailing newline), so the file is read as
 * bytes, never split on lines.
 */
export function readTranscript(file: string): TranscriptRecord[] {
  const data = readFileSync(file);
  const out: TranscriptRecord[] = [];
  let pos = 0;
  while (pos < data.length) {
    const eol = data.indexOf(0x0a, pos);
    if (eol < 0) throw new Error(`${file}: byte ${pos}: marker line without an end`);
    const line = data.toString('utf8', pos, eol);
    const m = MARKER.exec(line);
    if (m) {
      const len = Number(m[4]);
      const start = eol + 1;
      const end = start + len;
      if (end > data.length || data[end] !== 0x0a) throw new Error(`${file}: record #${m[2]}: ${len} bytes not followed by the separator`);
      out.push({ dir: m[1] as 'S->C' | 'C->S', n: Number(m[2]), at: Number(m[3]), bytes: data.subarray(start, end) });
      pos = end + 1;
      continue;
    }
    const note = NOTE.exec(line);
    if (!note) throw new Error(`${file}: byte ${pos}: not a record marker: ${JSON.stringify(line.slice(0, 60))}`);
    out.push({ dir: 'NOTE', n: null, at: Number(note[1]), bytes: Buffer.from(note[2]!) });
    pos = eol + 1;
  }
  return out;
}
