import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCallflow, loadAccountBundle } from '../engine/documents/load.ts';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { createRegistry } from '../modules/index.ts';
import { account, callflow, tempDir, writeJson } from './support/sim.ts';

const ctx = () => ({ registry: createRegistry(), validator: new SchemaValidator() });
const check = (doc: unknown) => checkCallflow(doc, 'cf.json', '', ctx());
const errorsOf = (r: ReturnType<typeof check>) => (r.ok ? [] : r.errors.map((e) => e.message));

const withUser = (data: Record<string, unknown>) =>
  callflow('cf', { module: 'notification', data: {}, children: { _: { module: 'user', data } } });

describe('document validation', () => {
  it('fills module defaults from the schema', () => {
    const r = check(callflow('cf', { module: 'user', data: { id: 'alice' } }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.doc.flow.data).toEqual({ id: 'alice', timeout: 20, delay: 0, strategy: 'simultaneous', can_call_self: false });
  });

  it('a wrong type names the file, the JSON pointer and the problem', () => {
    expect(errorsOf(check(withUser({ id: 'alice', timeout: 'soon' })))).toEqual([
      'cf.json: /flow/children/_/data/timeout: must be integer (got "soon")',
    ]);
  });

  it('an unknown enum value lists the allowed values', () => {
    expect(errorsOf(check(withUser({ id: 'alice', strategy: 'random' })))).toEqual([
      'cf.json: /flow/children/_/data/strategy: must be one of "simultaneous", "single" (got "random")',
    ]);
  });

  it('a missing required field is named', () => {
    expect(errorsOf(check({ name: 'x', flow: { module: 'user', data: {} } }))).toEqual(['cf.json: /: missing required field "id"']);
    expect(errorsOf(check(callflow('cf', { module: 'callflow', data: {} })))).toEqual([
      'cf.json: /flow/data: missing required field "id"',
    ]);
    expect(errorsOf(check(callflow('cf', { data: {} })))).toEqual(['cf.json: /flow: missing required field "module"']);
  });

  it('an unknown module is a warning, not an error, and is kept for run time', () => {
    const r = check(callflow('cf', { module: 'ring_group', data: { endpoints: [] } }));
    expect(r.ok).toBe(true);
    expect(r.warnings.map(String)).toEqual(['cf.json: /flow/module: unknown module "ring_group": it will be skipped at run time']);
  });

  it('an invalid pattern is an error at its index', () => {
    expect(errorsOf(check(callflow('cf', { module: 'user', data: {} }, [], ['^ok$', '^(broken$'])))[0]).toMatch(
      /^cf\.json: \/patterns\/1: invalid regular expression/,
    );
  });

  it('a pattern that repeats a repeating group without bound is refused: it could stall the process on a long number', () => {
    const errors = errorsOf(check(callflow('cf', { module: 'user', data: {} }, [], ['^(\\d+)+$', '^\\+?1?(\\d{10})$', '^((\\d)*){2,}x$', '^(\\+?1)?(\\d{10})$', '^\\*97([0-9*#]*)$'])));
    expect(errors).toEqual([
      'cf.json: /patterns/0: a group of variable length is repeated without bound or more than 3 times in all (like (\\d+)+, (\\d{1,3}){2,20} or ((\\d+){2}){2}): matching a long number can take exponential time; write it without the nesting',
      'cf.json: /patterns/2: a group of variable length is repeated without bound or more than 3 times in all (like (\\d+)+, (\\d{1,3}){2,20} or ((\\d+){2}){2}): matching a long number can take exponential time; write it without the nesting',
    ]);
  });

  it('nested repetitions multiply and sequences add up: patterns that would stall routing for seconds are refused at load', () => {
    const errors = errorsOf(check(callflow('cf', { module: 'user', data: {} }, [], ['^(((\\d+){3}){3}){3}$', '^(\\d+){3}(\\d+){3}(\\d+){3}(\\d+){3}$', '^\\+?1?(\\d{10})$'])));
    expect(errors).toEqual([
      'cf.json: /patterns/0: a group of variable length is repeated without bound or more than 3 times in all (like (\\d+)+, (\\d{1,3}){2,20} or ((\\d+){2}){2}): matching a long number can take exponential time; write it without the nesting',
      'cf.json: /patterns/1: more than 4 variable-length pieces, each counted as often as it can repeat (like (\\d+){3}\\d*\\d*): matching a long number can take seconds; write it with fewer',
    ]);
  });

  it('children that are neither a node nor {} are rejected', () => {
    expect(errorsOf(check(callflow('cf', { module: 'user', data: {}, children: { _: 'next' } })))).toEqual([
      'cf.json: /flow/children/_: must be object (got "next")',
    ]);
    expect(errorsOf(check(callflow('cf', { module: 'user', data: {}, children: { _: { data: {} } } })))).toEqual([
      'cf.json: /flow/children/_: missing required field "module"',
    ]);
    expect(check(callflow('cf', { module: 'user', data: {}, children: { _: {} } })).ok).toBe(true);
  });

  it('an account bundle names the callflow file a problem is in', () => {
    const dir = tempDir();
    writeJson(join(dir, 'bad-cf.json'), withUser({ id: 'alice', delay: -1 }));
    const file = writeJson(join(dir, 'account.json'), account(['bad-cf.json']));
    const r = loadAccountBundle(file, ctx());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.message)).toEqual([`${file}: /callflows/0: ${join(dir, 'bad-cf.json')}: /flow/children/_/data/delay: must be >= 0`]);
  });

  it('account bundle fields are checked: unknown top-level keys, bad SIP usernames, duplicate ids', () => {
    const dir = tempDir();
    const file = writeJson(join(dir, 'account.json'), {
      ...account([]),
      devices: [
        { id: 'd1', sip: { username: 'ok\r\nInjected: yes' } },
        { id: 'd1', sip: { username: 'fine' } },
      ],
      extra: true,
    });
    const r = loadAccountBundle(file, ctx());
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.message)).toEqual([
        `${file}: /: unknown field "extra"`,
        `${file}: /devices/0/sip/username: must be letters, digits, "_", ".", "+" and "-" only (got "ok\\r\\nInjected: yes")`,
      ]);
    }
    const dup = writeJson(join(dir, 'dup.json'), { ...account([]), devices: [{ id: 'd1', sip: { username: 'a' } }, { id: 'd1', sip: { username: 'b' } }] });
    const r2 = loadAccountBundle(dup, ctx());
    expect(r2.ok ? [] : r2.errors.map((e) => e.message)).toEqual([`${dup}: /devices/1/id: duplicate id "d1"`]);
  });

  it('a duplicate inline callflow id is named at its place in the bundle; one in its own file at /id there', () => {
    const dir = tempDir();
    const node = { module: 'user', data: { id: 'alice' } };
    const inline = writeJson(join(dir, 'inline.json'), account([callflow('cf-a', node, ['100']), callflow('cf-a', node, ['101'])]));
    const r = loadAccountBundle(inline, ctx());
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([`${inline}: /callflows/1/id: duplicate callflow id "cf-a"`]);
    writeJson(join(dir, 'other.json'), callflow('cf-a', node, ['102']));
    const mixed = writeJson(join(dir, 'mixed.json'), account([callflow('cf-a', node, ['100']), 'other.json']));
    const r2 = loadAccountBundle(mixed, ctx());
    expect(r2.ok ? [] : r2.errors.map((e) => e.message)).toEqual([`${join(dir, 'other.json')}: /id: duplicate callflow id "cf-a"`]);
  });

  it('a number two callflows claim is a warning at the later claim, naming the callflow that keeps it', () => {
    const dir = tempDir();
    const node = { module: 'user', data: { id: 'alice' } };
    writeJson(join(dir, 'late.json'), callflow('cf-c', node, ['300', '100']));
    const file = writeJson(join(dir, 'account.json'), account([callflow('cf-a', node, ['100', '200']), callflow('cf-b', node, ['200']), 'late.json']));
    const r = loadAccountBundle(file, ctx());
    expect(r.ok).toBe(true);
    expect(r.warnings.map(String)).toEqual([
      `${file}: /callflows/1/numbers/0: number "200" is already callflow "cf-a"'s, which calls to it will run`,
      `${join(dir, 'late.json')}: /numbers/1: number "100" is already callflow "cf-a"'s, which calls to it will run`,
    ]);
    const distinct = writeJson(join(dir, 'distinct.json'), account([callflow('cf-a', node, ['100']), callflow('cf-b', node, ['101'])]));
    expect(loadAccountBundle(distinct, ctx()).warnings).toEqual([]);
  });

  it('a flow nested 1,000 deep is one error naming where it gets too deep, and the next file is still checked', () => {
    const dir = tempDir();
    let flow: Record<string, unknown> = { module: 'user', data: { id: 'alice' } };
    for (let i = 0; i < 1000; i++) flow = { module: 'user', data: { id: 'alice' }, children: { _: flow } };
    // Compact: indented, 1,000 levels would take more than the 10 MB a file may have.
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, JSON.stringify(callflow('deep', flow, ['100'])));
    const inline = join(dir, 'account.json');
    writeFileSync(inline, JSON.stringify(account([callflow('deep', flow, ['100'])])));
    const bad = writeJson(join(dir, 'bad.json'), withUser({ id: 'alice', delay: -1 }));
    const r = spawnSync(process.execPath, ['bin/callflow.js', 'validate', deep, inline, bad], { encoding: 'utf8' });
    // The limit is on the file's JSON levels, so an inline flow in a bundle reaches it a node sooner.
    const at = (base: string, nodes = 199) => base + '/flow' + '/children/_'.repeat(nodes) + '/children';
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.length > 0)).toEqual([
      `${deep}: ${at('')}: nested more than 400 levels deep (about 200 levels of flow nodes): too deep to check`,
      `${inline}: ${at('/callflows/0', 198)}: nested more than 400 levels deep (about 200 levels of flow nodes): too deep to check`,
      `${bad}: /flow/children/_/data/delay: must be >= 0`,
    ]);
    // Directly given, as a scenario or a caller would: the same error, not a stack overflow.
    expect(errorsOf(check(callflow('deep', flow, ['100'])))).toEqual([`cf.json: ${at('')}: nested more than 400 levels deep (about 200 levels of flow nodes): too deep to check`]);
  });

  it('a FIFO or a device is refused, not read: it could hang validation or fill memory', () => {
    const dir = tempDir();
    const fifo = join(dir, 'cf.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const viaAccount = writeJson(join(dir, 'account.json'), account([fifo, '/dev/zero']));
    const r = spawnSync(process.execPath, ['bin/callflow.js', 'validate', fifo, '/dev/zero', viaAccount], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.length > 0)).toEqual([
      `${fifo}: /: not a regular file`,
      '/dev/zero: /: not a regular file',
      `${viaAccount}: /callflows/0: ${fifo}: /: not a regular file`,
      `${viaAccount}: /callflows/1: /dev/zero: /: not a regular file`,
    ]);
  });

  it('a file over 10 MB is refused before it is read', () => {
    const dir = tempDir();
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"id": "big", "flow": {"module": "user", "data": {}}, "name": "${'x'.repeat(10 * 1024 * 1024)}"}`);
    const file = writeJson(join(dir, 'account.json'), account(['big.json']));
    const r = loadAccountBundle(file, ctx());
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([`${file}: /callflows/0: ${big}: /: larger than 10 MB`]);
  });

  it('malformed JSON names the line and column', () => {
    const dir = tempDir();
    const file = join(dir, 'broken.json');
    writeJson(file, {});
    writeFileSync(file, '{\n  "id": "x",\n  "flow": { oops }\n}');
    const r = loadAccountBundle(file, ctx());
    expect(r.ok ? '' : r.errors[0]!.message).toMatch(/broken\.json: \/: invalid JSON: .* at line 3 column \d+/);
  });

  it('scenarios are validated: unknown fields, bad digits, devices missing from the account', () => {
    const dir = tempDir();
    writeJson(join(dir, 'account.json'), account([]));
    const file = writeJson(join(dir, 's.json'), {
      name: 's',
      account: 'account.json',
      call: { from: '1', to: '2' },
      caller: { dtmf: [{ digits: '1x', at_s: 1 }] },
      devices: { ghost: { action: 'answer' } },
      colour: 'red',
    });
    const r = loadScenario(file, ctx());
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.message)).toEqual([
        `${file}: /: unknown field "colour"`,
        `${file}: /caller/dtmf/0/digits: must be DTMF keys (0-9, *, #, A-D) (got "1x")`,
      ]);
    }
    const file2 = writeJson(join(dir, 's2.json'), { name: 's', account: 'account.json', call: { from: '1', to: '2' }, devices: { ghost: { action: 'busy' } } });
    const r2 = loadScenario(file2, ctx());
    expect(r2.ok ? [] : r2.errors.map((e) => e.message)).toEqual([`${file2}: /devices/ghost: no device "ghost" in the account`]);
  });
});

describe('notification data and templates', () => {
  const notif = (data: Record<string, unknown>) => check(callflow('cf', { module: 'notification', data }));

  it('fills send_at; a missing recipients list takes its declared default [] (as KAZOO\'s code does)', () => {
    const ok = notif({ recipients: [{ type: 'user', id: ['a', 'b'] }], template_id: 't' });
    expect(ok.ok && ok.value.doc.flow.data).toEqual({ recipients: [{ type: 'user', id: ['a', 'b'] }], template_id: 't', send_at: 'channel_destroy' });
    // The schema marks recipients required with default []: ajv fills the default first.
    const none = notif({ template_id: 't' });
    expect(none.ok && none.value.doc.flow.data).toEqual({ template_id: 't', recipients: [], send_at: 'channel_destroy' });
    expect(errorsOf(notif({ template_id: 't', recipients: null }))).toEqual(['cf.json: /flow/data/recipients: must be array (got null)']);
  });

  it('rejects unknown media, send_at values and recipient shapes', () => {
    expect(errorsOf(notif({ recipients: [], send_at: 'later' }))).toEqual([
      'cf.json: /flow/data/send_at: must be one of "callflow_exec", "channel_destroy" (got "later")',
    ]);
    expect(errorsOf(notif({ recipients: [], notification_media: ['fax'] }))).toEqual([
      'cf.json: /flow/data/notification_media/0: must be one of "email", "sms" (got "fax")',
    ]);
    expect(errorsOf(notif({ recipients: [{ type: 'user' }] }))).toEqual(['cf.json: /flow/data/recipients/0: missing required field "id"']);
    expect(errorsOf(notif({ recipients: [{ type: 'group', id: 'x' }] }))).toEqual([
      'cf.json: /flow/data/recipients/0/type: must be one of "user", "email" (got "group")',
    ]);
    expect(errorsOf(notif({ recipients: [{ type: 'email', id: 5 }] }))).toEqual(['cf.json: /flow/data/recipients/0/id: does not match any allowed shape']);
  });

  it('account templates and mobile numbers are validated when the account loads', () => {
    const dir = tempDir();
    const file = writeJson(join(dir, 'account.json'), {
      ...account([]),
      users: [{ id: 'u', mobile_number: '555-1234' }],
      notification_templates: [
        { id: 't', from: 'a@b.cc' },
        { id: 'u', from: 'a@b.cc', subject: 's', sms: { body: 'x', to: ['12'] } },
        // Addresses sending would have to drop are refused at load, naming the address.
        { id: 'v', from: 'pbx', reply_to: 'not an address', subject: 's', to: { type: 'specified', email_addresses: ['desk@pbx-host'] } },
      ],
    });
    const r = loadAccountBundle(file, ctx());
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([
      `${file}: /users/0/mobile_number: must be an E.164 number (+15551234567) (got "555-1234")`,
      `${file}: /notification_templates/0: missing required field "subject"`,
      `${file}: /notification_templates/1/sms/to/0: must be an E.164 number (+15551234567) (got "12")`,
      `${file}: /notification_templates/2/from: must be one plain email address (name@example.com) (got "pbx")`,
      `${file}: /notification_templates/2/reply_to: must be one plain email address (name@example.com) (got "not an address")`,
      `${file}: /notification_templates/2/to/email_addresses/0: must be one plain email address (name@example.com) (got "desk@pbx-host")`,
    ]);
  });

  it('a greeting is a plain absolute path (no URL scheme, ".." or relative name), a notify address one the sender takes: checked at load', () => {
    const dir = tempDir();
    const box = (id: string, media: Record<string, string>) => ({ id, mailbox: '200' + id.length, media });
    const file = writeJson(join(dir, 'account.json'), {
      ...account([]),
      vmboxes: [
        box('a', { unavailable: 'shell_stream:///bin/sh -c id' }),
        box('bb', { temporary_unavailable: '/var/greetings/../../etc/shadow' }),
        box('ccc', { unavailable: 'greetings/alice.wav' }),
        box('dddd', { unavailable: '/var/greetings/alice-1.wav', temporary_unavailable: '/var/greetings/away_2.mp3' }),
        { id: 'e', mailbox: '2009', notify_email_addresses: ['desk@example.test', 'ops@pbx-host'] },
      ],
    });
    const r = loadAccountBundle(file, ctx());
    const path = 'must be an absolute path of plain names (/var/greetings/alice.wav)';
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([
      `${file}: /vmboxes/0/media/unavailable: ${path} (got "shell_stream:///bin/sh -c id")`,
      `${file}: /vmboxes/1/media/temporary_unavailable: ${path} (got "/var/greetings/../../etc/shadow")`,
      `${file}: /vmboxes/2/media/unavailable: ${path} (got "greetings/alice.wav")`,
      // The address rule the sender applies: no domain without a top-level part.
      `${file}: /vmboxes/4/notify_email_addresses/1: must be one plain email address (name@example.com) (got "ops@pbx-host")`,
    ]);
  });

  it('an unknown time zone is an error', () => {
    const dir = tempDir();
    const file = writeJson(join(dir, 'account.json'), { ...account([]), account: { id: 'a', name: 'a', realm: 'r.local', timezone: 'Mars/Olympus' } });
    const r = loadAccountBundle(file, ctx());
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([`${file}: /account/timezone: unknown time zone "Mars/Olympus"`]);
  });
});
