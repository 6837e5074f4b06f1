import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccountView } from '../engine/call/account-view.ts';
import type { FinalCallState } from '../engine/call/call-control.ts';
import { isSafeEmail } from '../modules/notification/addresses.ts';
import { buildMacros } from '../modules/notification/macros.ts';
import { plainParts } from '../modules/notification/plain-template.ts';
import { TemplateRenderer } from '../modules/notification/renderer.ts';
import { emailAddresses, resolveRecipients } from '../modules/notification/recipients.ts';
import type { NotificationTemplate } from '../modules/notification/schema.ts';

const view = new AccountView({
  file: 'a.json',
  account: { id: 'acc', name: 'Acme', realm: 'acme.local', timezone: 'America/New_York' },
  users: [
    { id: 'alice', email: 'alice@acme.test', mobile_number: '+15550000001' },
    { id: 'admin', email: 'root@acme.test', priv_level: 'admin' },
    { id: 'nomail' },
  ],
  devices: [],
  vmboxes: [],
  notificationTemplates: [],
  callflows: [],
});

const state = (over: Partial<FinalCallState> = {}): FinalCallState => ({
  info: { callId: 'c1', callerNumber: '+14155550100', callerName: 'Carol', calleeNumber: '2000', captureGroups: {} },
  accountId: 'acc',
  startedAt: Date.parse('2026-07-04T18:30:05Z'),
  answeredAt: null,
  endedAt: Date.parse('2026-07-04T18:30:47Z'),
  durationMs: 42_000,
  answered: false,
  callBridged: false,
  messageLeft: true,
  hangupBy: 'caller',
  hangup: { disposition: 'recv_cancel', cause: 'ORIGINATOR_CANCEL', code: 'sip:487' },
  variables: {},
  ...over,
});

describe('template macros', () => {
  it("are KAZOO's cf_notification macros, dates in the account's time zone", () => {
    const m = buildMacros(state(), view, { recipients: [], send_at: 'channel_destroy', template_id: 't', comments: 'hi' }, ['x@y.zz'], Date.parse('2026-07-04T18:30:48Z')) as any;
    expect(m.date_called).toEqual({ utc: '2026-07-04 18:30:05 UTC', local: '2026-07-04 14:30:05 EDT', timestamp: Math.floor(Date.parse('2026-07-04T18:30:05Z') / 1000) + 62_167_219_200, timezone: 'America/New_York' });
    expect(m.caller_id).toEqual({ name: 'Carol', number: '+14155550100', name_number: 'Carol(+14155550100)' });
    expect(m.call).toMatchObject({
      call_id: 'c1',
      caller_id_name: 'Carol',
      to_user: '2000',
      call_bridged: false,
      message_left: true,
      notify: { disposition: 'recv_cancel', hangup_cause: 'ORIGINATOR_CANCEL', hangup_code: 'sip:487' },
      to: ['x@y.zz'],
      duration_seconds: 42,
      hangup_by: 'caller',
      comments: 'hi',
      notification_media: ['email'],
    });
    expect(m.account).toMatchObject({ id: 'acc', name: 'Acme', realm: 'acme.local' });
    expect(m.from).toEqual({ user: '+14155550100', realm: 'acme.local' });
    expect(m.hangup).toEqual({ cause: 'ORIGINATOR_CANCEL', code: 'sip:487', disposition: 'recv_cancel', by: 'caller' });
  });

  it('caller_id drops "unknown" parts and repeats nothing', () => {
    const cid = (name: string, number: string) =>
      (buildMacros(state({ info: { ...state().info, callerName: name, callerNumber: number } }), view, { recipients: [], send_at: 'callflow_exec' }, undefined, 0) as any).caller_id.name_number;
    expect(cid('1000', '1000')).toBe('1000');
    expect(cid('unknown', '1000')).toBe('1000');
    expect(cid('Ann', 'unknown')).toBe('Ann');
  });

  it('exec-time state has no hangup data', () => {
    const m = buildMacros(state({ hangup: undefined as never }), view, { recipients: [], send_at: 'callflow_exec' }, undefined, 0) as any;
    expect(m.call.notify).toBeUndefined();
    expect(m.hangup).toEqual({});
  });
});

describe('recipients and addresses', () => {
  it('accept one plain address only: no display names, lists or line breaks', () => {
    expect(isSafeEmail('a@b.cc')).toBe(true);
    for (const bad of ['a@b.cc\r\nBcc: x@y.zz', 'A <a@b.cc>', 'a@b.cc, c@d.ee', 'a@@b.cc', 'a b@c.dd', 'a@b']) expect(isSafeEmail(bad), bad).toBe(false);
  });

  it('an address may be 254 characters long, not 255 (RFC 5321 path limit)', () => {
    const address = (length: number) => `${'a'.repeat(length - '@example.com'.length)}@example.com`;
    expect(address(254)).toHaveLength(254);
    expect(isSafeEmail(address(254))).toBe(true);
    expect(isSafeEmail(address(255))).toBe(false);
    // The same rule where sending resolves recipients: the long one is named and left out.
    const data = { recipients: [{ type: 'email' as const, id: [address(254), address(255)] }], send_at: 'channel_destroy' as const };
    const r = resolveRecipients(data, view, 'email');
    expect(r.values).toEqual([address(254)]);
    expect(r.notes).toEqual([`email: "${address(255)}" is not a valid address: left out`]);
  });

  it('users give their email (or mobile_number for SMS); bad entries are left out with a note', () => {
    const data = { recipients: [{ type: 'user' as const, id: ['alice', 'nomail', 'ghost'] }, { type: 'email' as const, id: 'x@y.zz\r\nBcc: evil@e.vil' }], send_at: 'channel_destroy' as const };
    expect(resolveRecipients(data, view, 'email')).toEqual({
      values: ['alice@acme.test'],
      notes: [
        'email: user nomail has no valid email: left out',
        'email: no user "ghost": left out',
        'email: "x@y.zz\r\nBcc: evil@e.vil" is not a valid address: left out',
      ],
    });
    expect(resolveRecipients(data, view, 'sms').values).toEqual(['+15550000001']);
  });

  it('specified: template first; original or none: callflow first; admins: the account admins', () => {
    const t = (type?: 'original' | 'specified' | 'admins'): NotificationTemplate => ({
      id: 't', enabled: true, subject: 's', to: { ...(type ? { type } : {}), email_addresses: ['tpl@acme.test'] },
    });
    expect(emailAddresses(t('specified'), ['cf@acme.test'], view).to).toEqual(['tpl@acme.test']);
    expect(emailAddresses(t('original'), ['cf@acme.test'], view).to).toEqual(['cf@acme.test']);
    expect(emailAddresses(t(), ['cf@acme.test'], view).to).toEqual(['cf@acme.test']);
    expect(emailAddresses(t('original'), undefined, view).to).toEqual(['tpl@acme.test']);
    expect(emailAddresses(t('admins'), ['cf@acme.test'], view).to).toEqual(['root@acme.test']);
  });
});

describe('plain templates (text and {{ a.b }} only) rendered without Liquid', () => {
  const fast = new TemplateRenderer();
  const liquid = new TemplateRenderer({ plain: false });
  const hostile = '<img src=x onerror="alert(\'x\')">&amp; Ünïcødé \u202e';
  class Drop {
    toLiquid() {
      return { name: 'from toLiquid' };
    }
  }
  const values: Record<string, unknown> = {
    caller_id: { name: hostile, number: '+15550100', name_number: `${hostile}(+15550100)` },
    call: { message_left: true, call_bridged: false, duration_seconds: 42, ratio: -0.5, nothing: null, size: 3 },
    list: ['a', '<b>'],
    nested: { deeper: { value: 'x&y' }, empty: '' },
    drop: new Drop(),
    inherited: Object.create({ secret: 'from the prototype' }) as object,
    getter: Object.defineProperty({}, 'v', { get: () => '<got>', enumerable: true }),
    fn: { f: () => 'ran' },
    // A top-level name that objects also inherit: the own value is what both paths show.
    constructor: 'an own constructor',
  };
  const templates = [
    'Call from {{ caller_id.name_number }}',
    '{{caller_id.name}}{{ call.message_left }}{{ call.call_bridged }} {{ call.duration_seconds }}/{{ call.ratio }}',
    'a {{ call.nothing }} b {{ call.missing }} c {{ missing.deeper }}',
    '{{ list }} {{ list.first }} {{ list.size }} {{ call.size }} {{ nested.deeper }} {{ nested.deeper.value }}{{ nested.empty }}',
    '{{ drop.name }} {{ inherited.secret }} {{ getter.v }} {{ fn.f }} {{ constructor }} {{ caller_id.constructor }}',
    '{{ true }} {{ nil }} {{ empty }} {{ 5 }} {{ "s" }} {{ caller_id["name"] }} {{ list[1] }}',
    '{{- caller_id.number -}} x {{ caller_id.number | upcase }} {% if call.message_left %}yes{% endif %}',
    'unclosed {{ caller_id.number } and }} braces {',
    '',
    'no outputs at all',
    '{{\n  caller_id.number\n}}',
    '{{ constructor }} {{ caller_id.number }}',
  ];

  it('give exactly what Liquid gives, as text and as HTML, falling back to Liquid where they must', () => {
    for (const t of templates) {
      for (const as of ['text', 'html'] as const) {
        let want: string | Error;
        try {
          want = liquid.render('t', 'f', t, values, as);
        } catch (err) {
          want = err as Error;
        }
        if (want instanceof Error) expect(() => fast.render('t', 'f', t, values, as)).toThrow(want.message);
        else expect(fast.render('t', 'f', t, values, as), `${as}: ${t}`).toBe(want);
      }
    }
  });

  it('cover the shipped templates, and nothing with tags, filters, literals or special properties', () => {
    const example = JSON.parse(readFileSync(join(import.meta.dirname, '../callflows/example/account.json'), 'utf8')) as {
      notification_templates: Record<string, string>[];
    };
    for (const t of example.notification_templates) {
      for (const field of ['subject', 'text', 'html']) if (t[field] !== undefined) expect(plainParts(t[field]!), t[field]).toBeDefined();
    }
    expect(plainParts('Hi {{ a.b }}!')).toEqual(['Hi ', ['a', 'b'], '!']);
    for (const i of [3, 5, 6, 7]) expect(plainParts(templates[i]!), templates[i]).toBeUndefined();
    // Plain in shape, these fall back to Liquid when rendered (a Drop, an inherited value, a getter, a function).
    expect(plainParts(templates[4]!)).toBeDefined();
    // Too big for HTML: Liquid's memory limit refuses it, the plain path's character cap too.
    const huge = { s: 'x'.repeat(600_000) };
    expect(() => liquid.render('t', 'html', '<p>{{ s }}{{ s }}</p>', huge, 'html')).toThrow(/memory alloc limit exceeded/);
    expect(() => fast.render('t', 'html', '<p>{{ s }}{{ s }}</p>', huge, 'html')).toThrow(/more than 1000000/);
    // A hostile value is escaped in HTML, not in text, on the plain path as through Liquid.
    expect(fast.render('t', 'f', '<p>{{ caller_id.name }}</p>', values, 'html')).toBe(
      '<p>&lt;img src=x onerror=&#34;alert(&#39;x&#39;)&#34;&gt;&amp;amp; Ünïcødé \u202e</p>',
    );
  });
});
