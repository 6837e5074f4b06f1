import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAccountBundle } from '../engine/documents/load.ts';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { wavDurationMs } from '../integrations/simulator/wav.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteVoicemailStore } from '../integrations/sqlite/voicemail-store.ts';
import { createRegistry } from '../modules/index.ts';
import { simulate, tempDir, writeJson } from './support/sim.ts';
import { caller, notes, played, recordCommands, vmAccount, vmSession } from './support/voicemail.ts';

/** Answer at 0, seven 1-second prompts, a 1-second beep: recording starts at 8 s (as in voicemail-compose.test.ts). */
const RECORD_STARTS_S = 8;

describe('voicemail storage', () => {
  it('two step logs in one folder: each message keeps its own audio (media files are named by a per-database id)', async () => {
    // `callflow simulate --db a.db` then `--db b.db` in the same folder: both put their media in ./voicemail/.
    const dir = tempDir();
    const acct = vmAccount();
    const carol = { call: { from: '+15550001111', caller_id_name: 'Carol', to: '100' }, caller: { speaks_s: 5, hangup_at_s: RECORD_STARTS_S + 5 } };
    const mallory = { call: { from: '+15559990000', caller_id_name: 'Mallory', to: '100' }, caller: { speaks_s: 2, hangup_at_s: RECORD_STARTS_S + 2 } };
    const a = await simulate({ account: acct, scenario: carol, dir, dbFile: join(dir, 'a.db') });
    await simulate({ account: acct, scenario: mallory, dir, dbFile: join(dir, 'b.db') });
    const [carolsMessage] = new SqliteVoicemailStore(a.db, join(dir, 'voicemail')).list('acc-1', 'vm-alice', 'new');
    expect(carolsMessage!.lengthMs).toBe(5000);
    // Carol's message must still play Carol's 5 s, not Mallory's 2 s written over it.
    expect(wavDurationMs(readFileSync(carolsMessage!.mediaPath))).toBe(5000);
  });

  it('the file name is <id>-<the execution id\'s last 10 hex digits>: the same for the same execution, and never written over', () => {
    const dir = tempDir();
    const rec = (name: string) => {
      mkdirSync(join(dir, 'rec'), { recursive: true });
      writeFileSync(join(dir, 'rec', name), name);
      return join(dir, 'rec', name);
    };
    const message = (recordingPath: string) => ({
      accountId: 'acc-1', boxId: 'vm-alice', mailbox: '2000', callerNumber: '+1555', callerName: 'C', calleeNumber: '100',
      callId: 'call-1', executionId: '01a21fae-ef71-7000-b1a1-a20c6ffdf7ed', lengthMs: 1000, createdAt: 1_700_000_000_000, notifyStatus: 'ignored' as const, recordingPath,
    });
    const a = new SqliteVoicemailStore(openDatabase(join(dir, 'a.db')), join(dir, 'voicemail'));
    const saved = a.save(message(rec('first.wav')));
    expect(basename(saved.mediaPath)).toBe('1-0c6ffdf7ed.wav');
    // The same execution's message saved into another step log beside it: same name, so refused, not written over.
    const b = new SqliteVoicemailStore(openDatabase(join(dir, 'b.db')), join(dir, 'voicemail'));
    const second = rec('second.wav');
    expect(() => b.save(message(second))).toThrow(/already exists/);
    expect(readFileSync(saved.mediaPath, 'utf8')).toBe('first.wav');
    // Refused cleanly: no row, and the recording is where the switch left it.
    expect(b.list('acc-1', 'vm-alice', 'new')).toEqual([]);
    expect(existsSync(second)).toBe(true);
    // Another execution: another name.
    expect(basename(b.save({ ...message(second), executionId: '01a21fae-ef71-7000-b1a1-a20c6ffdf7ee' }).mediaPath)).not.toBe(basename(saved.mediaPath));
  });
});

describe('voicemail check', () => {
  const stranger = (dtmf: unknown[]) => ({ call: { from: '+15550002222', to: '*97' }, caller: { hangup_at_s: 60, dtmf } });

  it('a box number typed run-on with the PIN (no # between) does not put the PIN in the step log', async () => {
    const r = await vmSession().run(stranger([{ digits: '20001234#', on_prompt: 'vm-enter_id' }]));
    // The DTMF events are masked for exactly this case; the "no box" note must not undo it.
    expect(JSON.stringify(r.detail.steps)).not.toContain('20001234');
    expect(notes(r)[0]).toBe('login attempt 1: no box (8 digits entered)');
  });

  it('is_setup false (the default): the setup wizard is not built, and the step log says so (the owner is asked for the PIN as today)', async () => {
    const r = await vmSession(vmAccount({ alice: { require_pin: true } })).run({
      call: { from: 'alice-desk', to: '100', device: 'alice-desk' },
      caller: { hangup_at_s: 30 },
    });
    expect(notes(r)).toContain(
      "first-time setup (is_setup false) is not built: box 2000's owner is asked for the PIN (require_pin); KAZOO would skip it and run the setup wizard (new PIN, greeting)",
    );
    expect(played(r)[0]).toBe('vm-enter_pass');
    // A box that is set up: no such note.
    const setUp = await vmSession(vmAccount({ alice: { require_pin: true, is_setup: true } })).run({
      call: { from: 'alice-desk', to: '100', device: 'alice-desk' },
      caller: { hangup_at_s: 30 },
    });
    expect(notes(setUp).filter((n) => n.startsWith('first-time setup'))).toEqual([]);
  });

  it('# at the main menu exits; vm-goodbye is only for four idle rounds', async () => {
    const r = await vmSession().run(
      stranger([
        { digits: '2000#', on_prompt: 'vm-enter_id' },
        { digits: '1234#', on_prompt: 'vm-enter_pass' },
        { digits: '#', on_prompt: 'vm-main_menu' },
      ]),
    );
    expect(played(r)).not.toContain('vm-goodbye');
    // Logged in, heard the main menu once, and # ended the check there: nothing played after it.
    expect(played(r).filter((p) => p === 'vm-main_menu')).toHaveLength(1);
    expect(played(r).at(-1)).toBe('vm-main_menu');
    // The engine hung up when the flow ended, long before the caller's hangup at 60 s.
    expect(r.summary).toMatchObject({ endReason: 'callflow_finished', hangupBy: 'engine' });
    expect(r.summary.durationMs).toBeLessThan(60_000);
  });
});

describe('voicemail compose', () => {
  it('announcement-only box: the node ends when the greeting ends (no 5 s of dead air)', async () => {
    const r = await vmSession(vmAccount({ alice: { announcement_only: true, media: { unavailable: '/g/a.wav' } } })).run(caller({ hangup_at_s: 60 }));
    expect(played(r)).toEqual(['/g/a.wav']);
    expect(r.detail.steps[0]!.duration_ms).toBe(1000);
    // A key while it plays is still read: * logs in.
    const star = await vmSession(vmAccount({ alice: { announcement_only: true, media: { unavailable: '/g/a.wav' } } })).run(
      caller({ hangup_at_s: 60, dtmf: [{ digits: '*', on_prompt: '/g/a.wav' }] }),
    );
    expect(notes(star)).toContain('check mode: caller pressed * during the announcement');
  });

  it('full box: the node ends when vm-mailbox_full ends; * during the prompts still logs in', async () => {
    const s = vmSession(vmAccount({ alice: { max_message_count: 1, media: { unavailable: '/g/a.wav' } } }));
    await s.run(caller({ speaks_s: 2, hangup_at_s: 4 }));
    const full = await s.run(caller({ hangup_at_s: 60 }));
    expect(played(full)).toEqual(['/g/a.wav', 'vm-mailbox_full']);
    expect(full.detail.steps[0]!.duration_ms).toBe(2000);
    expect(recordCommands(full)).toHaveLength(0);
    const star = await s.run(caller({ hangup_at_s: 60, dtmf: [{ digits: '*', on_prompt: 'vm-mailbox_full' }] }));
    expect(notes(star)).toContain('check mode: caller pressed * at the full box');
  });
});

describe('voicemail-to-email', () => {
  it('a template whose to/cc/bcc resolve to nobody sends nothing and says so: not "pending" forever', async () => {
    // to.type admins, and the account has no admin users: teletype has no recipient (ignored).
    const templates = [{ id: 'voicemail_to_email', from: 'pbx@test.local', subject: 'VM', text: 'x', to: { type: 'admins' } }];
    const s = vmSession(vmAccount({ alice: { notify_email_addresses: ['desk@test.local'], delete_after_notify: true }, extra: { notification_templates: templates } }));
    const r = await s.run(caller({ speaks_s: 2, hangup_at_s: RECORD_STARTS_S + 2 }));
    expect(s.outbox().list({ limit: 10 })).toEqual([]);
    expect(notes(r)).not.toContain('voicemail_new: email to  queued (outbox ), audio attached; after-notify action: delete once every copy is sent');
    expect(notes(r)).toContain('voicemail_new: no recipient (ignored), so no after-notify action: the message stays new (voicemail_saved)');
    const [m] = s.store().list('acc-1', 'vm-alice', 'new');
    expect(m!.notifyStatus).toBe('ignored');
  });
});

describe('vmbox documents', () => {
  it('two boxes with the same mailbox number are refused at load', () => {
    const dir = tempDir();
    const file = writeJson(
      join(dir, 'account.json'),
      vmAccount({ extra: { vmboxes: [{ id: 'vm-a', mailbox: '2000', pin: '1111' }, { id: 'vm-b', mailbox: '2000', pin: '2222' }] } }),
    );
    const r = loadAccountBundle(file, { registry: createRegistry(), validator: new SchemaValidator() });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.pointer, e.problem])).toEqual([['/vmboxes/1/mailbox', 'duplicate mailbox number "2000"']]);
  });
});
