import { constants, copyFileSync, existsSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { NewVoicemail, VoicemailFolder, VoicemailMessage, VoicemailNotifyStatus, VoicemailStore } from '../../engine/voicemail.ts';
import type { Db } from './open-database.ts';

interface MessageRow {
  id: number;
  account_id: string;
  box_id: string;
  mailbox: string;
  folder: VoicemailFolder;
  caller_number: string;
  caller_name: string;
  callee_number: string;
  call_id: string;
  execution_id: string;
  length_ms: number;
  created_at: number;
  media_path: string;
  media_bytes: number;
  notify_status: VoicemailNotifyStatus;
}

const toMessage = (r: MessageRow): VoicemailMessage => ({
  id: r.id,
  accountId: r.account_id,
  boxId: r.box_id,
  mailbox: r.mailbox,
  folder: r.folder,
  callerNumber: r.caller_number,
  callerName: r.caller_name,
  calleeNumber: r.callee_number,
  callId: r.call_id,
  executionId: r.execution_id,
  lengthMs: r.length_ms,
  createdAt: r.created_at,
  mediaPath: r.media_path,
  mediaBytes: r.media_bytes,
  notifyStatus: r.notify_status,
});

/** Path segments come from documents: keep them to one harmless name each. */
const segment = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || '_';

/**
 * Moves a file, never over an existing one (a rename silently replaces its target). The name
 * carries its execution's random digits (mediaFileName), so only a re-run of the same execution into
 * another step log in the same folder can meet it: a lookup first is enough, and keeps the move
 * one rename (a link and an unlink would be two directory writes on a disk where file operations
 * are the compose flow's dearest part). Copies (exclusively) when the recording sits on another
 * file system.
 */
function moveFile(from: string, to: string): void {
  if (existsSync(to)) throw new Error(`voicemail audio file ${to} already exists (another step log's message?): not written over`);
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to, constants.COPYFILE_EXCL);
    unlinkSync(from);
  }
}

/**
 * The audio file's name: the message id (for people) and the last 10 hex digits of its
 * execution's id (random in a v7 uuid). Ids restart at 1 in every step log, and step logs in one
 * folder share `voicemail/`: the execution's digits keep their files apart, and `trace show`
 * finds the call by them. (A sha256 of the same facts cost the compose flow 12 µs a call.)
 */
export function mediaFileName(id: number, m: Pick<NewVoicemail, 'executionId' | 'recordingPath'>): string {
  const hex = m.executionId.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  const tag = hex.length >= 10 ? hex.slice(-10) : segment(m.executionId).slice(-10);
  return `${id}-${tag}${extname(m.recordingPath) || '.wav'}`;
}

/**
 * Voicemail messages in the step-log database, their audio in `mediaDir`
 * (`<account>/<box>/<message id>-<execution digits>.<ext>`, see mediaFileName). A message row and its file
 * are kept together: if the file cannot be taken over (or its name is taken), no row remains.
 */
export class SqliteVoicemailStore implements VoicemailStore {
  private readonly countStmt: Statement;
  private readonly insert: Statement;
  private readonly setMedia: Statement;
  private readonly listStmt: Statement;
  private readonly getStmt: Statement;
  private readonly move: Statement;
  private readonly setNotify: Statement;
  private readonly saveTx: (m: NewVoicemail, then?: (saved: VoicemailMessage) => VoicemailNotifyStatus | void) => VoicemailMessage;
  private readonly madeDirs = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly mediaDir: string,
    private readonly wall: { now(): number } = Date,
  ) {
    this.countStmt = db.prepare(
      `SELECT folder, n FROM voicemail_box_counts WHERE account_id = ? AND box_id = ? AND folder != 'deleted'`,
    );
    this.insert = db.prepare(
      `INSERT INTO voicemail_messages (account_id, box_id, mailbox, folder, caller_number, caller_name, callee_number, call_id,
         execution_id, length_ms, created_at, wall_created_at, media_path, media_bytes, notify_status)
       VALUES (?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?)`,
    );
    this.setMedia = db.prepare('UPDATE voicemail_messages SET media_path = ?, media_bytes = ? WHERE id = ?');
    this.listStmt = db.prepare('SELECT * FROM voicemail_messages WHERE account_id = ? AND box_id = ? AND folder = ? ORDER BY id');
    this.getStmt = db.prepare('SELECT * FROM voicemail_messages WHERE id = ?');
    this.move = db.prepare('UPDATE voicemail_messages SET folder = ?, folder_changed_at = ? WHERE id = ?');
    this.setNotify = db.prepare('UPDATE voicemail_messages SET notify_status = ? WHERE id = ?');
    this.saveTx = db.transaction((m: NewVoicemail, then?: (saved: VoicemailMessage) => VoicemailNotifyStatus | void) => {
      const r = this.insert.run(
        m.accountId, m.boxId, m.mailbox, m.callerNumber, m.callerName, m.calleeNumber, m.callId,
        m.executionId, m.lengthMs, m.createdAt, this.wall.now(), m.notifyStatus,
      );
      const id = Number(r.lastInsertRowid);
      const dir = join(this.mediaDir, segment(m.accountId), segment(m.boxId));
      if (!this.madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        this.madeDirs.add(dir);
      }
      const target = resolve(dir, mediaFileName(id, m));
      // Throws (and rolls the row back) when the switch left no file, or the name is taken.
      const bytes = statSync(m.recordingPath).size;
      moveFile(m.recordingPath, target);
      try {
        this.setMedia.run(target, bytes, id);
        const { recordingPath: _, ...fields } = m;
        const saved: VoicemailMessage = { ...fields, id, folder: 'new', mediaPath: target, mediaBytes: bytes };
        const status = then?.(saved);
        if (!status || status === saved.notifyStatus) return saved;
        this.setNotify.run(status, id);
        return { ...saved, notifyStatus: status };
      } catch (err) {
        // Whatever fails after the move rolls the row back: the file goes back with it, to where
        // the switch left it, so the module's own cleanup (or a retry) still finds it.
        moveFile(target, m.recordingPath);
        throw err;
      }
    });
  }

  count(accountId: string, boxId: string): { new: number; saved: number } {
    const out = { new: 0, saved: 0 };
    for (const r of this.countStmt.all(accountId, boxId) as { folder: 'new' | 'saved'; n: number }[]) out[r.folder] = r.n;
    return out;
  }

  save(message: NewVoicemail, then?: (saved: VoicemailMessage) => VoicemailNotifyStatus | void): VoicemailMessage {
    return this.saveTx(message, then);
  }

  list(accountId: string, boxId: string, folder: VoicemailFolder): VoicemailMessage[] {
    return (this.listStmt.all(accountId, boxId, folder) as MessageRow[]).map(toMessage);
  }

  get(id: number): VoicemailMessage | undefined {
    const r = this.getStmt.get(id) as MessageRow | undefined;
    return r && toMessage(r);
  }

  moveTo(id: number, folder: VoicemailFolder): void {
    this.move.run(folder, this.wall.now(), id);
  }

  discardRecording(path: string): void {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** A box's messages by its id or its number, in any account unless one is given, newest first (for the CLI). */
  listAll(opts: { accountId?: string; box: string; folder?: VoicemailFolder; limit: number }): VoicemailMessage[] {
    const where = ['(box_id = ? OR mailbox = ?)'];
    const args: unknown[] = [opts.box, opts.box];
    if (opts.folder) {
      where.push('folder = ?');
      args.push(opts.folder);
    }
    if (opts.accountId) {
      where.push('account_id = ?');
      args.push(opts.accountId);
    }
    const sql = `SELECT * FROM voicemail_messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, opts.limit) as MessageRow[]).map(toMessage);
  }
}
