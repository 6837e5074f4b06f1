import type { Outbox } from '../outbox.ts';
import type { VoicemailStore } from '../voicemail.ts';
import type { ExecutionStart, TraceSink } from './rows.ts';

/**
 * The outbox and voicemail store as one execution sees them: each write of rows that belong to
 * the execution (a message queued, a voicemail kept) goes through the sink's `durably`, which
 * makes sure the execution itself is on record first. Those rows commit at once, while a batch
 * holds its executions for a group commit: a process killed meanwhile left kept messages and
 * sent emails whose execution the step log never had, not even as incomplete.
 */
export function recordedFirst(
  sink: TraceSink,
  start: ExecutionStart,
  stores: { readonly outbox?: Outbox; readonly voicemail?: VoicemailStore },
): { outbox?: Outbox; voicemail?: VoicemailStore } {
  const { outbox, voicemail } = stores;
  const durably = sink.durably?.bind(sink);
  if (!durably) return { ...(outbox ? { outbox } : {}), ...(voicemail ? { voicemail } : {}) };
  return {
    ...(outbox ? { outbox: { enqueue: (id, at, messages) => durably(start, () => outbox.enqueue(id, at, messages)) } } : {}),
    ...(voicemail
      ? {
          voicemail: {
            count: (accountId, boxId) => voicemail.count(accountId, boxId),
            save: (message, then) => durably(start, () => voicemail.save(message, then)),
            list: (accountId, boxId, folder) => voicemail.list(accountId, boxId, folder),
            get: (id) => voicemail.get(id),
            moveTo: (id, folder) => voicemail.moveTo(id, folder),
            discardRecording: (path) => voicemail.discardRecording(path),
          } satisfies VoicemailStore,
        }
      : {}),
  };
}
