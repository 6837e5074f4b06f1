import { join } from 'node:path';
import { OutboxStore } from '../../integrations/sqlite/outbox-store.ts';
import { SqliteVoicemailStore } from '../../integrations/sqlite/voicemail-store.ts';
import type { Db } from '../../integrations/sqlite/open-database.ts';
import { account, callflow, simulate, tempDir, type SimResult } from './sim.ts';

/** Alice owns box 2000 (PIN 1234); Bob owns box 3000 (PIN 5555). */
export function vmAccount(opts: { flows?: unknown[]; alice?: Record<string, unknown>; extra?: Record<string, unknown> } = {}) {
  return account(
    opts.flows ?? [
      callflow('main', { module: 'voicemail', data: { id: 'vm-alice' } }, ['100']),
      callflow('check', { module: 'voicemail', data: { action: 'check' } }, ['*97']),
    ],
    {
      vmboxes: [
        { id: 'vm-alice', name: 'Alice', mailbox: '2000', owner_id: 'alice', pin: '1234', ...opts.alice },
        { id: 'vm-bob', name: 'Bob', mailbox: '3000', owner_id: 'bob', pin: '5555' },
      ],
      ...opts.extra,
    },
  );
}

/** Runs scenarios one after another on one step log and voicemail store (messages carry over). */
export function vmSession(acct: unknown = vmAccount()) {
  const dir = tempDir();
  const dbFile = join(dir, 'trace.db');
  let last: SimResult | undefined;
  let runs = 0;
  return {
    dir,
    async run(scenario: Record<string, unknown>): Promise<SimResult> {
      // Each run its own seed: execution and recording ids must not repeat within one step log.
      const seeded = { ...scenario, seed: ((scenario.seed as number | undefined) ?? 1) + 100 * runs++ };
      last = await simulate({ account: acct, scenario: seeded, dir, dbFile, outbox: (db: Db) => new OutboxStore(db, Date) });
      return last;
    },
    store(): SqliteVoicemailStore {
      if (!last) throw new Error('run a scenario first');
      return new SqliteVoicemailStore(last.db, join(dir, 'voicemail'));
    },
    outbox(): OutboxStore {
      if (!last) throw new Error('run a scenario first');
      return new OutboxStore(last.db, Date);
    },
  };
}

/** What the call played, in order (prompt names, files, the beep; `say:2000` for text said). */
export const played = (r: SimResult): string[] =>
  r.detail.commands
    .filter((c) => c.app === 'playback' || c.app === 'say')
    .map((c) => {
      const args = JSON.parse(c.args as string) as { file?: string; text?: string };
      return c.app === 'say' ? `say:${args.text}` : args.file!;
    });

export const recordCommands = (r: SimResult): { path: string; limitSeconds: number }[] =>
  r.detail.commands.filter((c) => c.app === 'record').map((c) => JSON.parse(c.args as string) as { path: string; limitSeconds: number });

export const notes = (r: SimResult): string[] => r.detail.steps.flatMap((s) => JSON.parse((s.notes as string) ?? '[]') as string[]);

/** A caller (not the owner) reaching box 2000 through callflow 100. */
export const caller = (caller: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  call: { from: '+15550001111', caller_id_name: 'Carol', to: '100' },
  caller,
  ...extra,
});
