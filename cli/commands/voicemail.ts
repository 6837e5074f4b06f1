import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { UsageError } from '../../engine/errors.ts';
import type { VoicemailFolder, VoicemailMessage } from '../../engine/voicemail.ts';
import { wavDurationMs } from '../../integrations/simulator/wav.ts';
import { SqliteVoicemailStore } from '../../integrations/sqlite/voicemail-store.ts';
import { dbPath, mediaDirs, messageIdArg, oneOf, openStepLog, positiveInt, type Command } from '../command.ts';
import { printable } from '../render-trace.ts';

const FOLDERS: readonly VoicemailFolder[] = ['new', 'saved', 'deleted'];

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

function messageLine(m: VoicemailMessage): string {
  return [
    `#${m.id}`,
    m.folder.padEnd(7),
    `box ${printable(m.mailbox)} (${printable(m.boxId)})`,
    `from ${printable(m.callerName)} <${printable(m.callerNumber)}>`,
    `${(m.lengthMs / 1000).toFixed(1)} s`,
    iso(m.createdAt),
    `email ${m.notifyStatus}`,
  ].join('  ');
}

/** The WAV header's own duration, to show the file is what the metadata says (mp3 is not read). */
function fileDuration(path: string): string {
  if (!existsSync(path)) return 'missing';
  if (!path.endsWith('.wav')) return 'present';
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(44);
    readSync(fd, head, 0, 44, 0);
    return `${(wavDurationMs(head) / 1000).toFixed(1)} s of audio`;
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  } finally {
    closeSync(fd);
  }
}

function openStore(values: Record<string, unknown>, env: NodeJS.ProcessEnv): { store: SqliteVoicemailStore; close(): void } {
  const db = openStepLog(values, env);
  return { store: new SqliteVoicemailStore(db, mediaDirs(dbPath(values, env)).voicemail), close: () => db.close() };
}

export const voicemailListCommand: Command = {
  name: 'voicemail list',
  usage: 'callflow voicemail list <box> [--folder new|saved|deleted] [--account ID] [--db FILE] [--limit N]',
  summary: "a voicemail box's messages, newest first",
  help: `Lists the messages of a box, given by its id or its number (mailbox): id, folder, caller,
length, when it was left (call time), and what became of its voicemail-to-email.`,
  options: { folder: { type: 'string' }, account: { type: 'string' }, db: { type: 'string' }, limit: { type: 'string' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('voicemail list: give one box (its id or number)');
    const folder = oneOf('voicemail list', 'folder', values.folder, FOLDERS);
    const { store, close } = openStore(values, io.env);
    const rows = store.listAll({
      box: positionals[0]!,
      ...(typeof values.account === 'string' ? { accountId: values.account } : {}),
      ...(folder ? { folder } : {}),
      limit: positiveInt('limit', values.limit, 50),
    });
    close();
    if (rows.length === 0) io.out(`no messages in box ${printable(positionals[0]!)}${folder ? ` (${folder})` : ''}`);
    for (const m of rows) io.out(messageLine(m));
    return 0;
  },
};

export const voicemailPlayCommand: Command = {
  name: 'voicemail play',
  usage: 'callflow voicemail play <message-id> [--db FILE]',
  summary: "a voicemail message's audio file and its details",
  help: 'Prints the path of the message\'s audio file (first line, for a player) and its metadata.',
  options: { db: { type: 'string' } },
  async run({ values, positionals }, io) {
    const id = messageIdArg('voicemail play', positionals);
    const { store, close } = openStore(values, io.env);
    const m = store.get(id);
    close();
    if (!m) {
      io.err(`voicemail play: no message #${id}`);
      return 1;
    }
    io.out(m.mediaPath);
    io.out(`message    #${m.id} in box ${printable(m.mailbox)} (${printable(m.boxId)}), account ${printable(m.accountId)}, folder ${m.folder}`);
    io.out(`from       ${printable(m.callerName)} <${printable(m.callerNumber)}> to ${printable(m.calleeNumber)}`);
    io.out(`left       ${iso(m.createdAt)}, ${m.lengthMs} ms`);
    io.out(`file       ${m.mediaBytes} bytes, ${fileDuration(m.mediaPath)}`);
    io.out(`email      ${m.notifyStatus}`);
    io.out(`call       ${m.callId} (execution ${m.executionId})`);
    return 0;
  },
};
