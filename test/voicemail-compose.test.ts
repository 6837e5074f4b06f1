import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wavDurationMs } from '../integrations/simulator/wav.ts';
import { callflow, path } from './support/sim.ts';
import { caller, notes, played, recordCommands, vmAccount, vmSession } from './support/voicemail.ts';

const BEEP = 'tone_stream://%(500,100,440)';
const GENERIC = ['vm-person', 'say:2000', 'vm-not_available', 'vm-record_message'];
/** Answer at 0, seven 1-second prompts, a 1-second beep: recording starts at 8 s. */
const RECORD_STARTS_S = 8;
const untilBeep = (files: string[]): string[] => files.slice(0, files.indexOf(BEEP) + 1);
const execution = (r: { db: { prepare(s: string): { get(...a: unknown[]): unknown } }; summary: { id: string } }) =>
  r.db.prepare('SELECT * FROM executions WHERE id = ?').get(r.summary.id) as Record<string, unknown>;

describe('voicemail compose: greeting', () => {
  const greetingFor = async (alice: Record<string, unknown>) =>
    untilBeep(played(await vmSession(vmAccount({ alice })).run(caller({ hangup_at_s: 30 }))));

  it("selects the greeting in KAZOO's order, then the instructions and the beep", async () => {
    expect(await greetingFor({})).toEqual([...GENERIC, BEEP]);
    expect(await greetingFor({ media: { unavailable: '/greetings/alice.wav', temporary_unavailable: '/greetings/away.wav' } })).toEqual([
      '/greetings/away.wav', 'vm-record_message', BEEP,
    ]);
    expect(await greetingFor({ use_person_not_available: true })).toEqual(['vm-person_not_available', 'vm-record_message', BEEP]);
    // with its own greeting, use_person_not_available does not apply
    expect(await greetingFor({ use_person_not_available: true, media: { unavailable: '/greetings/alice.wav' } })).toEqual([
      '/greetings/alice.wav', 'vm-record_message', BEEP,
    ]);
    expect(await greetingFor({ skip_greeting: true, skip_instructions: true, play_greeting_intro: true })).toEqual(['vm-greeting_intro', BEEP]);
  });

  it('the box number is one say application, each digit reported as its own playback', async () => {
    const r = await vmSession().run(caller({ hangup_at_s: 30 }));
    const events = r.detail.events as { name: string; headers: string }[];
    const from = events.findIndex((e) => e.name === 'CHANNEL_EXECUTE' && JSON.parse(e.headers).Application === 'say');
    const to = events.findIndex((e, i) => i > from && e.name === 'CHANNEL_EXECUTE_COMPLETE');
    const inside = events.slice(from + 1, to).map((e) => `${e.name} ${JSON.parse(e.headers)['Playback-File-Path']}`);
    expect(inside).toEqual(['2', '0', '0', '0'].flatMap((d) => [`PLAYBACK_START digits/${d}`, `PLAYBACK_STOP digits/${d}`]));
    expect(r.detail.commands.filter((c) => c.app === 'say')).toHaveLength(1);
  });

  it('a digit while the box number is said stops the say and records at once', async () => {
    const r = await vmSession().run(caller({ hangup_at_s: 10, dtmf: [{ digits: '5', on_prompt: 'digits/2', after_s: 0.1 }] }));
    expect(untilBeep(played(r))).toEqual(['vm-person', 'say:2000', BEEP]);
    const spoken = (r.detail.events as { name: string; headers: string }[]).filter((e) => e.name === 'PLAYBACK_START').map((e) => JSON.parse(e.headers)['Playback-File-Path']);
    expect(spoken).toContain('digits/2');
    expect(spoken).not.toContain('digits/0');
    expect(recordCommands(r)).toHaveLength(1);
  });

  it('a digit during the greeting records at once', async () => {
    const r = await vmSession().run(caller({ hangup_at_s: 10, dtmf: [{ digits: '5', on_prompt: 'vm-person' }] }));
    expect(untilBeep(played(r))).toEqual(['vm-person', BEEP]);
    expect(notes(r)).toContain('caller pressed 5 during the greeting: recording at once');
    expect(recordCommands(r)).toHaveLength(1);
  });

  it('* during the greeting goes to check (login), 0 to the operator callflow, or records when there is none', async () => {
    const star = await vmSession().run(caller({ hangup_at_s: 40, dtmf: [{ digits: '*', on_prompt: 'vm-not_available' }] }));
    expect(notes(star)).toContain('check mode: caller pressed * during the greeting');
    expect(played(star)).toContain('vm-enter_pass');
    expect(recordCommands(star)).toHaveLength(0);

    const withOperator = vmAccount({
      flows: [
        callflow('main', { module: 'voicemail', data: { id: 'vm-alice' } }, ['100']),
        callflow('operator', { module: 'test_answer', data: {} }, ['0']),
      ],
    });
    const zero = await vmSession(withOperator).run(caller({ hangup_at_s: 40, dtmf: [{ digits: '0', on_prompt: 'vm-person' }] }));
    expect(path(zero)).toEqual([['voicemail', 'branch', null], ['test_answer', 'continue', null]]);
    expect(recordCommands(zero)).toHaveLength(0);

    const nobody = await vmSession().run(caller({ hangup_at_s: 12, dtmf: [{ digits: '0', on_prompt: 'vm-person' }] }));
    expect(notes(nobody)).toContain('caller pressed 0 but there is no operator callflow: recording');
    expect(recordCommands(nobody)).toHaveLength(1);
  });
});

describe('voicemail compose: recording and the message', () => {
  it('the seed path: hanging up after speaking keeps a 5-second message with a real WAV file and sets message_left', async () => {
    const s = vmSession();
    const r = await s.run(caller({ speaks_s: 5, hangup_at_s: RECORD_STARTS_S + 5 }));
    const [msg] = s.store().list('acc-1', 'vm-alice', 'new');
    expect(msg).toMatchObject({ mailbox: '2000', folder: 'new', callerNumber: '+15550001111', callerName: 'Carol', lengthMs: 5000 });
    expect(msg!.callId).toBe(r.detail.execution.call_id);
    // <id>-<hash>: ids restart at 1 in every step log, and step logs in one folder share voicemail/
    expect(dirname(msg!.mediaPath)).toBe(join(s.dir, 'voicemail', 'acc-1', 'vm-alice'));
    expect(basename(msg!.mediaPath)).toMatch(new RegExp(`^${msg!.id}-[0-9a-f]{10}\\.wav$`));
    expect(wavDurationMs(readFileSync(msg!.mediaPath))).toBe(5000);
    // the switch's recording was taken over by the store, not copied
    expect(existsSync(recordCommands(r)[0]!.path)).toBe(false);
    expect(execution(r)).toMatchObject({ message_left: 1, hangup_by: 'caller' });
    expect(notes(r)).toContain('message-waiting update for box 2000: 1 new, 0 saved');
  });

  it('a recording under 500 ms is discarded: no message, no email, no file, and message_left stays false (deliberate)', async () => {
    const s = vmSession();
    const r = await s.run(caller({ speaks_s: 0.3, hangup_at_s: RECORD_STARTS_S + 0.3 }));
    expect(notes(r)).toContain('recording of 300 ms is under 500 ms: discarded, no message, no notification');
    expect(s.store().list('acc-1', 'vm-alice', 'new')).toEqual([]);
    expect(s.outbox().list({ limit: 10 })).toEqual([]);
    expect(readdirSync(join(s.dir, 'recordings'))).toEqual([]);
    expect(execution(r).message_left).toBe(0);
  });

  it('a recording of exactly 500 ms (the minimum) is a message; 499 ms is not', async () => {
    const at = async (ms: number) => {
      const s = vmSession();
      const r = await s.run(caller({ speaks_s: ms / 1000, hangup_at_s: RECORD_STARTS_S + ms / 1000 }));
      return { s, r };
    };
    const kept = await at(500);
    expect(kept.s.store().list('acc-1', 'vm-alice', 'new').map((m) => m.lengthMs)).toEqual([500]);
    expect(notes(kept.r)).toContain(`message 1 stored in box 2000: 500 ms, ${kept.s.store().get(1)!.mediaPath}`);
    expect(execution(kept.r).message_left).toBe(1);
    const short = await at(499);
    expect(notes(short.r)).toContain('recording of 499 ms is under 500 ms: discarded, no message, no notification');
    expect(short.s.store().list('acc-1', 'vm-alice', 'new')).toEqual([]);
    expect(execution(short.r).message_left).toBe(0);
  });

  it('max_message_length: the callflow data wins over the box, the box over the system default (500 s)', async () => {
    const limit = async (alice: Record<string, unknown>, data: Record<string, unknown>) => {
      const flows = [callflow('main', { module: 'voicemail', data: { id: 'vm-alice', ...data } }, ['100'])];
      return recordCommands(await vmSession(vmAccount({ flows, alice })).run(caller({ hangup_at_s: 9 })))[0]!.limitSeconds;
    };
    expect(await limit({ max_message_length: 60 }, { max_message_length: 30 })).toBe(30);
    expect(await limit({ max_message_length: 60 }, {})).toBe(60);
    expect(await limit({}, {})).toBe(500);
  });

  it('a full box publishes voicemail_full and records nothing', async () => {
    const s = vmSession(vmAccount({ alice: { max_message_count: 1 } }));
    await s.run(caller({ speaks_s: 2, hangup_at_s: RECORD_STARTS_S + 2 }));
    const full = await s.run(caller({ hangup_at_s: 20 }));
    expect(notes(full)).toContain('voicemail_full published: box 2000 holds 1 of 1 messages');
    expect(played(full)).toEqual([...GENERIC.slice(0, -1), 'vm-mailbox_full']);
    expect(recordCommands(full)).toHaveLength(0);
    expect(s.store().count('acc-1', 'vm-alice')).toEqual({ new: 1, saved: 0 });
  });

  it("no id and no capture group: the caller's own box as KAZOO finds it (single_mailbox_login, callerid_match_login), else none", async () => {
    const node = (data: Record<string, unknown>) => vmAccount({ flows: [callflow('main', { module: 'voicemail', data }, ['100'])] });
    // Bob calls from his desk; he owns one box (3000) and the node has no id.
    const fromBob = { call: { from: 'bob-desk', to: '100', device: 'bob-desk' }, caller: { hangup_at_s: 5 } };
    expect(played(await vmSession(node({})).run(fromBob))[0]).toBe('vm-not_available_no_voicemail');
    expect(notes(await vmSession(node({ single_mailbox_login: true })).run(fromBob))).toContain('check mode: the owner called their own box');
    // A stranger has no box of their own.
    const stranger = { call: { from: '+1555', to: '100' }, caller: { hangup_at_s: 5 } };
    expect(played(await vmSession(node({ single_mailbox_login: true })).run(stranger))[0]).toBe('vm-not_available_no_voicemail');
  });

  it('the owner calling their own box goes to check, unless check_if_owner is false or the call came through another module', async () => {
    const fromAlice = { call: { from: 'alice-desk', to: '100', device: 'alice-desk' }, caller: { hangup_at_s: 30 } };
    const own = await vmSession().run(fromAlice);
    expect(notes(own)).toContain('check mode: the owner called their own box');
    expect(notes(own)).toContain('box 2000: the owner, no PIN required');
    expect(recordCommands(own)).toHaveLength(0);

    const off = await vmSession(vmAccount({ alice: { check_if_owner: false } })).run(fromAlice);
    expect(recordCommands(off)).toHaveLength(1);

    // KAZOO's default is true only when no module ran before (or `device`): after `user`, compose.
    const afterUser = vmAccount({
      flows: [callflow('main', { module: 'user', data: { id: 'bob', timeout: 5 }, children: { _: { module: 'voicemail', data: { id: 'vm-alice' } } } }, ['100'])],
    });
    const viaUser = await vmSession(afterUser).run(fromAlice);
    expect(path(viaUser).map((p) => p[0])).toEqual(['user', 'voicemail']);
    expect(recordCommands(viaUser)).toHaveLength(1);
  });
});

describe('voicemail compose: the review menu', () => {
  // Speaking 3 s, then 5 s of silence ends the recording with the caller still on the line.
  const stays = (dtmf: unknown[], extra: Record<string, unknown> = {}) => caller({ speaks_s: 3, hangup_at_s: 90, dtmf }, extra);
  const afterRecording = (r: Parameters<typeof played>[0]): string[] => played(r).slice(played(r).indexOf(BEEP) + 1);

  it('1 saves: "saved", "thank you", and the callflow goes on', async () => {
    const s = vmSession();
    const r = await s.run(stays([{ digits: '1', on_prompt: 'vm-review_recording' }]));
    expect(afterRecording(r)).toEqual(['vm-review_recording', 'vm-saved', 'vm-thank_you']);
    expect(s.store().list('acc-1', 'vm-alice', 'new').map((m) => m.lengthMs)).toEqual([8000]);
    expect(execution(r)).toMatchObject({ message_left: 1, hangup_by: 'engine' });
  });

  it('2 plays the recording back, then the menu again', async () => {
    const r = await vmSession().run(
      stays([
        { digits: '2', on_prompt: 'vm-review_recording' },
        { digits: '1', on_prompt: 'vm-review_recording' },
      ]),
    );
    expect(afterRecording(r)).toEqual(['vm-review_recording', recordCommands(r)[0]!.path, 'vm-review_recording', 'vm-saved', 'vm-thank_you']);
  });

  it('3 records again: one message, from the second recording; the first file is gone', async () => {
    const s = vmSession();
    const r = await s.run(
      caller({
        speaks_s: [3, 1],
        hangup_at_s: 90,
        dtmf: [
          { digits: '3', on_prompt: 'vm-review_recording' },
          { digits: '1', on_prompt: 'vm-review_recording' },
        ],
      }),
    );
    const recs = recordCommands(r);
    expect(recs).toHaveLength(2);
    expect(existsSync(recs[0]!.path)).toBe(false);
    expect(s.store().list('acc-1', 'vm-alice', 'new').map((m) => m.lengthMs)).toEqual([6000]);
  });

  it('0 saves first, then goes to the operator', async () => {
    const acct = vmAccount({
      flows: [
        callflow('main', { module: 'voicemail', data: { id: 'vm-alice' } }, ['100']),
        callflow('operator', { module: 'test_answer', data: {} }, ['0']),
      ],
    });
    const s = vmSession(acct);
    const r = await s.run(stays([{ digits: '0', on_prompt: 'vm-review_recording' }]));
    expect(afterRecording(r)).toEqual(['vm-review_recording', 'vm-saved']);
    expect(path(r)).toEqual([['voicemail', 'branch', null], ['test_answer', 'continue', null]]);
    expect(s.store().count('acc-1', 'vm-alice').new).toBe(1);
  });

  it('0 with no operator callflow is a wrong key: the menu again, and the caller can still record again', async () => {
    const r = await vmSession().run(
      caller({
        speaks_s: [3, 1],
        hangup_at_s: 90,
        dtmf: [
          { digits: '0', on_prompt: 'vm-review_recording' },
          { digits: '3', on_prompt: 'vm-review_recording' },
          { digits: '1', on_prompt: 'vm-review_recording' },
        ],
      }),
    );
    expect(recordCommands(r)).toHaveLength(2);
    expect(played(r).filter((f) => f === 'vm-review_recording')).toHaveLength(3);
  });

  it('four empty tries save the message', async () => {
    const s = vmSession();
    const r = await s.run(stays([]));
    expect(afterRecording(r)).toEqual([...Array(4).fill('vm-review_recording'), 'vm-saved', 'vm-thank_you']);
    expect(notes(r)).toContain('no choice after 4 tries: saving');
    expect(s.store().count('acc-1', 'vm-alice').new).toBe(1);
  });

  it('hanging up during the review saves the message', async () => {
    const s = vmSession();
    const r = await s.run(caller({ speaks_s: 3, hangup_at_s: RECORD_STARTS_S + 8 + 2 }));
    expect(r.detail.steps[0]!.reason).toMatch(/^caller hung up during the review: message kept/);
    expect(s.store().count('acc-1', 'vm-alice').new).toBe(1);
  });
});

describe('voicemail-to-email recipients', () => {
  const outboxFor = async (alice: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const s = vmSession(vmAccount({ alice, extra }));
    const r = await s.run(caller({ speaks_s: 2, hangup_at_s: RECORD_STARTS_S + 2 }));
    return { s, r, rows: s.outbox().list({ limit: 10 }).reverse() };
  };

  it("the box's addresses and the owner's email (vm_to_email_enabled), with the audio attached and the after-notify action", async () => {
    const { s, rows } = await outboxFor({ notify_email_addresses: ['desk@test.local'], save_after_notify: true });
    expect(rows.map((r) => r.recipient)).toEqual(['desk@test.local', 'alice@test.local']);
    const [msg] = s.store().list('acc-1', 'vm-alice', 'new');
    const email = JSON.parse(rows[0]!.message) as { subject: string; attachments: unknown[] };
    expect(email.subject).toBe('New voicemail from Carol(+15550001111)');
    expect(email.attachments).toEqual([{ filename: basename(msg!.mediaPath), path: msg!.mediaPath, contentType: 'audio/x-wav' }]);
    expect(JSON.parse(rows[0]!.after_delivery!)).toEqual({ kind: 'voicemail.after_notify', args: { messageId: msg!.id, action: 'save' } });
    expect(msg!.notifyStatus).toBe('pending');
  });

  it('save_after_notify and delete_after_notify both set: save wins (the message is kept, not deleted)', async () => {
    const { r, rows } = await outboxFor({ notify_email_addresses: ['desk@test.local'], save_after_notify: true, delete_after_notify: true });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(JSON.parse(row.after_delivery!).args.action).toBe('save');
    expect(notes(r).some((n) => n.endsWith('after-notify action: save once every copy is sent'))).toBe(true);
    // Each alone still means itself.
    const del = await outboxFor({ notify_email_addresses: ['desk@test.local'], delete_after_notify: true });
    expect(JSON.parse(del.rows[0]!.after_delivery!).args.action).toBe('delete');
    const none = await outboxFor({ notify_email_addresses: ['desk@test.local'] });
    expect(JSON.parse(none.rows[0]!.after_delivery!).args.action).toBe('none');
  });

  it("an owner with vm_to_email_enabled false is removed even when the box lists them; no audio when include_message_on_notify is false", async () => {
    const users = [
      { id: 'alice', first_name: 'Alice', email: 'alice@test.local', vm_to_email_enabled: false },
      { id: 'bob', first_name: 'Bob', email: 'bob@test.local' },
    ];
    const { rows } = await outboxFor({ notify_email_addresses: ['desk@test.local', 'alice@test.local'], include_message_on_notify: false }, { users });
    expect(rows.map((r) => r.recipient)).toEqual(['desk@test.local']);
    expect(JSON.parse(rows[0]!.message).attachments).toBeUndefined();
  });

  it("an owner's email that cannot be sent to is left out with a note naming it", async () => {
    const users = [
      { id: 'alice', first_name: 'Alice', email: 'alice@pbx-host' },
      { id: 'bob', first_name: 'Bob' },
    ];
    const { r, rows } = await outboxFor({ notify_email_addresses: ['desk@test.local'] }, { users });
    expect(rows.map((row) => row.recipient)).toEqual(['desk@test.local']);
    expect(notes(r)).toContain('voicemail_new: "alice@pbx-host" is not a valid address: left out');
  });

  it('no recipient: nothing is sent, the message stays new (ignored)', async () => {
    const users = [{ id: 'alice', first_name: 'Alice' }, { id: 'bob', first_name: 'Bob' }];
    const { s, r, rows } = await outboxFor({}, { users });
    expect(rows).toEqual([]);
    expect(s.store().list('acc-1', 'vm-alice', 'new')[0]!.notifyStatus).toBe('ignored');
    expect(notes(r)).toContain('voicemail_new: no recipient (ignored), so no after-notify action: the message stays new (voicemail_saved)');
  });

  it('a broken voicemail_to_email template fails that email only: the message is kept, the step says why', async () => {
    const templates = [{ id: 'voicemail_to_email', from: 'pbx@test.local', subject: 'Voicemail {{ voicemail.box', text: 'x' }];
    const { s, r, rows } = await outboxFor({ notify_email_addresses: ['desk@test.local'] }, { notification_templates: templates });
    expect(rows).toEqual([]);
    expect(s.store().list('acc-1', 'vm-alice', 'new').map((m) => m.notifyStatus)).toEqual(['failed']);
    expect(notes(r).find((n) => n.startsWith('voicemail_new not sent:'))).toBe('voicemail_new not sent: template voicemail_to_email: subject: output "{{ voicemail.box" not closed, line:1, col:11; the message stays new');
    expect(execution(r).message_left).toBe(1);
  });
});

