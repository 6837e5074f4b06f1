/**
 * Where voicemail messages are kept. The engine and modules only know this interface; the
 * SQLite store (metadata) with its media folder (audio files) lives in integrations/sqlite/.
 */

export type VoicemailFolder = 'new' | 'saved' | 'deleted';

/** What happens to the message's voicemail-to-email, as far as the call can tell. */
export type VoicemailNotifyStatus = 'pending' | 'sent' | 'failed' | 'ignored';

export interface VoicemailMessage {
  readonly id: number;
  readonly accountId: string;
  readonly boxId: string;
  readonly mailbox: string;
  readonly folder: VoicemailFolder;
  readonly callerNumber: string;
  readonly callerName: string;
  readonly calleeNumber: string;
  readonly callId: string;
  readonly executionId: string;
  readonly lengthMs: number;
  /** On the call's clock (virtual in simulations). */
  readonly createdAt: number;
  /** The stored audio file. */
  readonly mediaPath: string;
  readonly mediaBytes: number;
  readonly notifyStatus: VoicemailNotifyStatus;
}

/** What a module hands the store: the message as left, before it has an id, a folder and a file. */
export type NewVoicemail = Omit<VoicemailMessage, 'id' | 'folder' | 'mediaPath' | 'mediaBytes'> & {
  /** Where the switch wrote the recording; the store takes the file over. */
  readonly recordingPath: string;
};

export interface VoicemailStore {
  /** Messages in a box by folder (deleted ones are not counted by KAZOO's "message count"). */
  count(accountId: string, boxId: string): { readonly new: number; readonly saved: number };
  /**
   * Stores the message and takes its recording into storage; throws if either cannot be kept.
   * `then` runs once the message is stored and commits with it (the voicemail-to-email rows go
   * in the same transaction): it must not throw, and may return the notify status it ended with.
   */
  save(message: NewVoicemail, then?: (saved: VoicemailMessage) => VoicemailNotifyStatus | void): VoicemailMessage;
  list(accountId: string, boxId: string, folder: VoicemailFolder): VoicemailMessage[];
  get(id: number): VoicemailMessage | undefined;
  moveTo(id: number, folder: VoicemailFolder): void;
  /** A recording too short to keep: its file goes (it was never a message). */
  discardRecording(path: string): void;
}
