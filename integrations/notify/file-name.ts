import { createHash } from 'node:crypto';

/**
 * The file a file transport writes one message to. Outbox ids restart at 1 in every step log,
 * so the id and recipient alone let a second step log's message overwrite the first's (and leave
 * the first's provider_id naming a file holding another call's message). The suffix is a hash of
 * the message's key and content: a retry of the same message rewrites its own file, a different
 * message never lands on it.
 */
export function messageFileName(outboxId: number, recipient: string, idempotencyKey: string, content: unknown, ext: string): string {
  const hash = createHash('sha256').update(idempotencyKey).update('\u0000').update(JSON.stringify(content)).digest('hex').slice(0, 12);
  return `${outboxId}-${recipient.replace(/[^A-Za-z0-9@.+_-]/g, '_')}-${hash}.${ext}`;
}
