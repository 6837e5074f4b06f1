import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** What FreeSWITCH records a narrowband call as: 8 kHz, 16-bit, mono PCM. */
const RATE = 8000;
const BYTES_PER_SAMPLE = 2;

/** A PCM WAV header (RIFF, fmt, data) for `dataBytes` of audio. */
function header(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * BYTES_PER_SAMPLE, 28);
  h.writeUInt16LE(BYTES_PER_SAMPLE, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/**
 * Writes what the simulated caller "said": `ms` of silence as a real WAV file, so stored
 * voicemail and its email attachment are the real thing, of the scripted length. The samples
 * are zeros, so the file is extended rather than written: the same bytes for every reader,
 * without pushing megabytes of zeros through the page cache on every simulated message.
 */
export class WavWriter {
  /** Folders known to exist; shared, as every simulated call writes into the same few. */
  private static readonly dirs = new Set<string>();

  write(path: string, ms: number): number {
    const dataBytes = Math.max(0, Math.round((ms * RATE) / 1000)) * BYTES_PER_SAMPLE;
    const dir = dirname(path);
    if (!WavWriter.dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      WavWriter.dirs.add(dir);
    }
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      // The folder went away since it was made (someone cleaned up): make it again, once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(dir, { recursive: true });
      fd = openSync(path, 'w');
    }
    try {
      writeSync(fd, header(dataBytes));
      ftruncateSync(fd, 44 + dataBytes);
    } finally {
      closeSync(fd);
    }
    return 44 + dataBytes;
  }
}

/** Reads back the duration of a WAV written as above (for tests and `voicemail play`). */
export function wavDurationMs(data: Buffer): number {
  if (data.length < 44 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a WAV file');
  }
  const byteRate = data.readUInt32LE(28);
  const dataBytes = data.readUInt32LE(40);
  return Math.round((dataBytes * 1000) / byteRate);
}
