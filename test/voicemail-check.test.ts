import { describe, expect, it } from 'vitest';
import { callflow } from './support/sim.ts';
import { caller, notes, played, vmAccount, vmSession } from './support/voicemail.ts';

/** Leaves `n` messages in Alice's box 2000 (the caller hangs up after speaking). */
async function withMessages(s: ReturnType<typeof vmSession>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await s.run(caller({ speaks_s: 2 + i, hangup_at_s: 10 + i }));
}

const press = (digits: string, on_prompt: string, after_s?: number) => ({ digits, on_prompt, ...(after_s !== undefined ? { after_s } : {}) });
/** A stranger dials *97: box number and PIN are asked for. */
const stranger = (dtmf: unknown[], extra: Record<string, unknown> = {}) => ({
  call: { from: '+15550002222', caller_id_name: 'Someone', to: '*97' },
  caller: { hangup_at_s: 120, dtmf },
  ...extra,
});
const login = [press('2000#', 'vm-enter_id'), press('1234#', 'vm-enter_pass')];
/** The step-log notes without the one that says first-time setup (is_setup false, the default) is not built. */
const loginNotes = (r: Parameters<typeof notes>[0]): string[] => notes(r).filter((n) => !n.startsWith('first-time setup (is_setup false)'));

describe('voicemail check: finding the box and logging in', () => {
  it('asks for the box number and the PIN, then the main menu says how many messages there are', async () => {
    const s = vmSession();
    await withMessages(s, 2);
    const r = await s.run(stranger([...login, press('#', 'vm-main_menu')]));
    expect(notes(r)).toContain('box 2000: PIN accepted');
    expect(played(r)).toEqual([
      'vm-enter_id', 'vm-enter_pass',
      // # leaves at once: vm-goodbye is only for four idle rounds (KAZOO's main_menu Loop > 4)
      'vm-you_have', 'say:2', 'vm-new_messages', 'say:0', 'vm-saved_messages', 'vm-main_menu',
    ]);
    expect(notes(r)).toContain('message-waiting update for box 2000: 2 new, 0 saved');
  });

  it('a wrong box number or PIN counts against 3 attempts, then "abort"; a wrong PIN asks for the PIN again, not the box', async () => {
    const r = await vmSession().run(
      stranger([press('9999#', 'vm-enter_id'), press('2000#', 'vm-enter_id'), press('1111#', 'vm-enter_pass'), press('2222#', 'vm-enter_pass')]),
    );
    expect(notes(r)).toEqual([
      // the digits of an unknown box number are not repeated: run on, they may carry the PIN
      'login attempt 1: no box (4 digits entered)',
      'login attempt 2: wrong PIN for box 2000',
      'login attempt 3: wrong PIN for box 2000',
      '3 failed login attempts',
      // KAZOO sends the box's message-waiting update however the check ended.
      'message-waiting update for box 2000: 0 new, 0 saved',
    ]);
    expect(played(r)).toEqual([
      'vm-enter_id', 'menu-invalid_entry', 'vm-enter_id', 'vm-enter_pass', 'vm-fail_auth', 'vm-enter_pass', 'vm-fail_auth', 'vm-abort',
    ]);
    expect(JSON.stringify(r.detail.steps)).not.toContain('1111');
  });

  it('the caller id alone never picks a box: callerid_match_login looks among the caller\'s own boxes, after single_mailbox_login', async () => {
    const flows = [callflow('both', { module: 'voicemail', data: { action: 'check', single_mailbox_login: true, callerid_match_login: true } }, ['*94'])];
    // Alice, from her own device, with Bob's box number as her caller id: her own (only) box.
    const alice = await vmSession(vmAccount({ flows })).run({ call: { from: '3000', to: '*94', device: 'alice-desk' }, caller: { hangup_at_s: 5 } });
    expect(loginNotes(alice)[0]).toBe('box 2000: the owner, no PIN required');
    // A caller with no device claiming caller id 3000: asked which box.
    const spoof = await vmSession(vmAccount({ flows })).run({ call: { from: '3000', to: '*94' }, caller: { hangup_at_s: 3 } });
    expect(played(spoof)[0]).toBe('vm-enter_id');
  });

  const dtmfLogged = (r: Awaited<ReturnType<ReturnType<typeof vmSession>['run']>>) =>
    r.detail.events.filter((e) => e.name === 'DTMF').map((e) => (JSON.parse(e.headers as string) as Record<string, string>)['DTMF-Digit']);

  it('key presses during the login reach the step log without their digits', async () => {
    const r = await vmSession().run(stranger([...login, press('#', 'vm-main_menu')]));
    const digits = dtmfLogged(r);
    // Box number and PIN (2000# 1234#) are masked alike; the main menu's # is not.
    expect(digits).toEqual([...Array(10).fill('masked'), '#']);
    // The PIN's first key also cut vm-enter_pass short: its completion names the key, masked.
    const terminators = r.detail.events
      .map((e) => (JSON.parse(e.headers as string) as Record<string, string>)['variable_playback_terminator_used'])
      .filter((t) => t !== undefined);
    expect(terminators).toEqual(['masked', 'masked', '#']);
    expect(notes(r)).toContain('box 2000: PIN accepted');
  });

  it('a PIN typed too slowly, or typed ahead with the box number, is masked too', async () => {
    const flows = [callflow('c', { module: 'voicemail', data: { action: 'check', id: 'vm-alice' } }, ['*97'])];
    // 2.5 s between keys: the 2 s interdigit timeout ends the collect after the first; the rest
    // arrive during vm-fail_auth and the next attempt.
    const slow = await vmSession(vmAccount({ flows })).run({
      call: { from: '+1555', to: '*97' },
      caller: { hangup_at_s: 30, dtmf: ['1', '2', '3', '4'].map((d, i) => ({ digits: d, at_s: 0.5 + 2.5 * i })) },
    });
    expect(dtmfLogged(slow).filter((d) => /^[0-9]$/.test(d!))).toEqual([]);
    const ahead = await vmSession().run(stranger([], { caller: { hangup_at_s: 30, dtmf: [{ digits: '2000#', at_s: 0.5 }, { digits: '1234#', at_s: 1.1 }] } }));
    expect(dtmfLogged(ahead).filter((d) => /^[0-9]$/.test(d!))).toEqual([]);
  });

  it('a key pressed during vm-fail_auth after a wrong PIN is flushed: it is not the start of the next PIN attempt', async () => {
    const r = await vmSession().run(
      stranger([press('2000#', 'vm-enter_id'), press('1111#', 'vm-enter_pass'), press('9', 'vm-fail_auth'), press('1234#', 'vm-enter_pass')]),
    );
    expect(loginNotes(r).slice(0, 2)).toEqual(['login attempt 1: wrong PIN for box 2000', 'box 2000: PIN accepted']);
    // The 9 did reach the switch (masked): 2000# 1111# 9 1234#, sixteen keys.
    expect(dtmfLogged(r)).toEqual(Array(16).fill('masked'));
    expect(played(r).slice(0, 5)).toEqual(['vm-enter_id', 'vm-enter_pass', 'vm-fail_auth', 'vm-enter_pass', 'vm-you_have']);
  });

  it('a box without a PIN cannot be checked by a stranger', async () => {
    const r = await vmSession(vmAccount({ alice: { pin: undefined } })).run(stranger([press('2000#', 'vm-enter_id')]));
    expect(played(r)).toEqual(['vm-enter_id', 'vm-no_access']);
    expect(r.detail.steps[0]!.reason).toMatch(/^no access to a box/);
  });

  it('the box from the data id, the capture group, the caller id (callerid_match_login) or the caller\'s only box (single_mailbox_login)', async () => {
    const flows = [
      callflow('by-id', { module: 'voicemail', data: { action: 'check', id: 'vm-bob' } }, ['*98']),
      callflow('by-capture', { module: 'voicemail', data: { action: 'check' } }, [], ['^\\*99([0-9]+)$']),
      callflow('by-cid', { module: 'voicemail', data: { action: 'check', callerid_match_login: true } }, ['*96']),
      callflow('single', { module: 'voicemail', data: { action: 'check', single_mailbox_login: true } }, ['*95']),
    ];
    const acct = vmAccount({ flows });
    const firstPrompt = async (scenario: Record<string, unknown>) => {
      const r = await vmSession(acct).run(scenario);
      return { played: played(r).slice(0, 2), notes: loginNotes(r) };
    };
    const pin = (p: string) => ({ hangup_at_s: 20, dtmf: [press(`${p}#`, 'vm-enter_pass')] });
    expect((await firstPrompt({ call: { from: '+1555', to: '*98' }, caller: pin('5555') })).notes[0]).toBe('box 3000: PIN accepted');
    expect((await firstPrompt({ call: { from: '+1555', to: '*992000' }, caller: pin('1234') })).notes[0]).toBe('box 2000: PIN accepted');
    // Bob calls from his device with his box number as caller id; his one box is found without
    // single_mailbox_login, and he owns it (require_pin false): no PIN.
    expect((await firstPrompt({ call: { from: '3000', to: '*96', device: 'bob-desk' }, caller: { hangup_at_s: 3 } })).notes[0]).toBe(
      'box 3000: the owner, no PIN required',
    );
    // callerid_match_login with no matching box: asked for the number
    expect((await firstPrompt({ call: { from: '+1555', to: '*96', device: 'bob-desk' }, caller: { hangup_at_s: 3 } })).played[0]).toBe('vm-enter_id');
    // Alice owns one box and calls from her device: no number, and no PIN (require_pin false)
    const own = await firstPrompt({ call: { from: 'alice-desk', to: '*95', device: 'alice-desk' }, caller: { hangup_at_s: 3 } });
    expect(own.notes[0]).toBe('box 2000: the owner, no PIN required');
    expect(own.played[0]).toBe('vm-you_have');
  });

  it('an owner with require_pin must enter the PIN', async () => {
    const flows = [callflow('single', { module: 'voicemail', data: { action: 'check', single_mailbox_login: true } }, ['*95'])];
    const r = await vmSession(vmAccount({ flows, alice: { require_pin: true } })).run({
      call: { from: 'alice-desk', to: '*95', device: 'alice-desk' },
      caller: { hangup_at_s: 20, dtmf: [press('1234#', 'vm-enter_pass')] },
    });
    expect(played(r)[0]).toBe('vm-enter_pass');
    // KAZOO would take the owner of a box not yet set up past the PIN into the setup wizard, which is not built.
    expect(notes(r).slice(0, 2)).toEqual([
      "first-time setup (is_setup false) is not built: box 2000's owner is asked for the PIN (require_pin); KAZOO would skip it and run the setup wizard (new PIN, greeting)",
      'box 2000: PIN accepted',
    ]);
  });

  it("PIN digits honour interdigit_timeout, the box's value winning over the callflow's", async () => {
    // PIN digits 2 s apart: a 3 s interdigit timeout reads all four, a 1 s one stops after the first.
    const slowPin = { hangup_at_s: 30, dtmf: ['1', '2', '3', '4'].map((d, i) => ({ digits: d, at_s: 0.5 + 2 * i })) };
    const run = async (box: Record<string, unknown>, data: Record<string, unknown>) => {
      const flows = [callflow('c', { module: 'voicemail', data: { action: 'check', id: 'vm-alice', ...data } }, ['*97'])];
      const r = await vmSession(vmAccount({ flows, alice: box })).run({ call: { from: '+1555', to: '*97' }, caller: slowPin });
      return notes(r)[0];
    };
    expect(await run({ interdigit_timeout: 3000 }, { interdigit_timeout: 1000 })).toBe('box 2000: PIN accepted');
    expect(await run({}, { interdigit_timeout: 3000 })).toBe('box 2000: PIN accepted');
    expect(await run({}, { interdigit_timeout: 1000 })).toBe('login attempt 1: wrong PIN for box 2000');
    expect(await run({}, {})).toBe('login attempt 1: wrong PIN for box 2000'); // KAZOO's default: 2000 ms
  });
});

describe('voicemail check: listening', () => {
  it('1 plays the new messages; 1 keeps one (saved folder), 7 deletes one', async () => {
    const s = vmSession();
    await withMessages(s, 2);
    const [m1, m2] = s.store().list('acc-1', 'vm-alice', 'new');
    const r = await s.run(stranger([...login, press('1', 'vm-main_menu'), press('1', 'vm-message_menu'), press('7', 'vm-message_menu'), press('#', 'vm-main_menu', 0.5)]));
    const p = played(r);
    const listened = p.slice(p.indexOf('vm-main_menu') + 1, p.lastIndexOf('vm-you_have'));
    expect(listened).toEqual([
      'vm-message_number', 'say:1', m1!.mediaPath, 'vm-message_menu', 'vm-saved',
      'vm-message_number', 'say:2', m2!.mediaPath, 'vm-message_menu', 'vm-deleted',
      'vm-no_more_messages',
    ]);
    expect(s.store().get(m1!.id)!.folder).toBe('saved');
    expect(s.store().get(m2!.id)!.folder).toBe('deleted');
    expect(s.store().count('acc-1', 'vm-alice')).toEqual({ new: 0, saved: 1 });
    expect(notes(r)).toContain('message-waiting update for box 2000: 0 new, 1 saved');
  });

  it('2 in the message menu replays it; 6 skips it (left new); 2 in the main menu plays the saved folder', async () => {
    const s = vmSession();
    await withMessages(s, 1);
    const [m] = s.store().list('acc-1', 'vm-alice', 'new');
    const replay = await s.run(stranger([...login, press('1', 'vm-main_menu'), press('2', 'vm-message_menu'), press('6', 'vm-message_menu'), press('#', 'vm-main_menu', 0.5)]));
    expect(played(replay).filter((f) => f === m!.mediaPath)).toHaveLength(2);
    expect(notes(replay)).toContain(`message ${m!.id} skipped (left in new)`);
    expect(s.store().get(m!.id)!.folder).toBe('new');

    await s.run(stranger([...login, press('1', 'vm-main_menu'), press('1', 'vm-message_menu'), press('#', 'vm-main_menu', 0.5)]));
    const saved = await s.run(stranger([...login, press('2', 'vm-main_menu'), press('7', 'vm-message_menu'), press('#', 'vm-main_menu', 0.5)]));
    expect(played(saved)).toContain(m!.mediaPath);
    expect(s.store().get(m!.id)!.folder).toBe('deleted');
  });

  it('0 in the message menu keeps the message and goes back to the main menu, skipping the rest', async () => {
    const s = vmSession();
    await withMessages(s, 2);
    const [m1, m2] = s.store().list('acc-1', 'vm-alice', 'new');
    const r = await s.run(stranger([...login, press('1', 'vm-main_menu'), press('0', 'vm-message_menu'), press('#', 'vm-main_menu', 0.5)]));
    const p = played(r);
    expect(p.slice(p.indexOf(m1!.mediaPath))).toEqual([
      m1!.mediaPath, 'vm-message_menu', 'vm-saved',
      'vm-you_have', 'say:1', 'vm-new_messages', 'say:1', 'vm-saved_messages', 'vm-main_menu',
    ]);
    expect(s.store().get(m1!.id)!.folder).toBe('saved');
    expect(s.store().get(m2!.id)!.folder).toBe('new');
  });

  it('four idle rounds of the main menu end with goodbye; 5 (settings) says it is not built', async () => {
    const s = vmSession();
    const r = await s.run(stranger([...login, press('5', 'vm-main_menu')]));
    expect(notes(r)).toContain('settings menu (5) is not built in this engine');
    expect(played(r).filter((f) => f === 'vm-main_menu')).toHaveLength(5);
    expect(played(r).at(-1)).toBe('vm-goodbye');
  });
});
