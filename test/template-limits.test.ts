import { describe, expect, it } from 'vitest';
import type { Outbox, OutboundMessage } from '../engine/outbox.ts';
import { notificationSettings } from '../integrations/notify/config.ts';
import { TemplateRenderer } from '../modules/notification/renderer.ts';
import { account, callflow, simulate } from './support/sim.ts';

const values = { caller_id: { name: 'Carol', number: '+14155550100', name_number: 'Carol(+14155550100)' } };

describe('template resource limits', () => {
  it('one filter call cannot run past the 200 ms render limit (sort_natural over a cheap array of long strings)', () => {
    // Two 45,001-character literals (free: they are template source, under parseLimit), an array
    // of 32,768 references to them (concat charges element counts only), then one sort_natural:
    // every comparison lower-cases two 45 KB strings, and Liquid checks its time limit only
    // between templates, never inside a filter. Memory charged: well under 1,000,000.
    const x = 'X'.repeat(45_000);
    const source =
      `{% assign s = "${x}Y" %}{% assign t = "${x}Z" %}` +
      `{% assign a = "" | split: "," | push: t | push: s %}` +
      `{% for i in (1..14) %}{% assign a = a | concat: a %}{% endfor %}` +
      `{% assign b = a | sort_natural %}{{ b | size }}`;
    const renderer = new TemplateRenderer();
    const started = performance.now();
    try {
      renderer.render('slow', 'subject', source, values, 'text');
    } catch {
      // refused or not, what matters is how long the (synchronous, main-thread) render held the process
    }
    const elapsed = performance.now() - started;
    // README: "rendering has time and memory limits" (renderLimit: 200 ms). Five times that is generous.
    expect(elapsed).toBeLessThan(1000);
  }, 120_000);
});

describe('template errors', () => {
  it('an unclosed tag written over two lines is reported with what is wrong, line and column', () => {
    const renderer = new TemplateRenderer();
    let message = '';
    try {
      renderer.render('missed', 'text', 'Hello\n{% if call.call_bridged\n   and call.answered %}answered', values, 'text');
    } catch (err) {
      message = (err as Error).message;
    }
    // Liquid says: 'tag {% if call.call_bridged\n   and call.answered %} not closed, line:2, col:1';
    // the renderer keeps only the text before the first newline: 'template missed: text: tag {% if call.call_bridged'.
    expect(message).toMatch(/^template missed: text: .*not closed.*line:2, col:1$/);
  });
});

describe('templates and the injected clock', () => {
  it('a scenario run twice stores the same rendered message (a template cannot read the wall clock)', async () => {
    const run = async (): Promise<string> => {
      const sent: OutboundMessage[] = [];
      const outbox: Outbox = {
        enqueue: (_e, _t, messages) => {
          sent.push(...messages);
          return messages.map((m, i) => ({ id: i + 1, idempotencyKey: m.idempotencyKey, duplicate: false }));
        },
      };
      const templates = [
        {
          id: 'stamp',
          from: 'pbx@test.local',
          subject: 'Call at {{ "now" | date: "%Y-%m-%d %H:%M:%S.%L %z" }}',
          to: { type: 'specified', email_addresses: ['desk@test.local'] },
          text: 'x',
        },
      ];
      const flow = { module: 'notification', data: { recipients: [], template_id: 'stamp', send_at: 'callflow_exec' } };
      await simulate({
        account: account([callflow('main', flow, ['100'])], { notification_templates: templates }),
        scenario: { call: { from: '+15551230000', caller_id_name: 'Carol', to: '100' } },
        outbox: () => outbox,
      });
      expect(sent).toHaveLength(1);
      return sent[0]!.email!.subject;
    };
    const first = await run();
    await new Promise((r) => setTimeout(r, 25));
    const second = await run();
    // Same scenario, same FixedClock wall clock and virtual call clock: the outbox row (part of the
    // step log) must be the same. It carries the machine's real time and time zone instead.
    expect(second).toBe(first);
  });
});

describe('notification settings', () => {
  it('a password in CALLFLOW_SMTP_URL without any user is refused, not silently dropped', () => {
    // README: "a setting that would be ignored (... a password without a user)" stops the command.
    // With the password in the URL instead of CALLFLOW_SMTP_PASSWORD it is accepted, and
    // SmtpTransport then connects without authenticating (no user, so no auth at all).
    expect(() => notificationSettings({ CALLFLOW_SMTP_URL: 'smtps://:Secret9@mail.example.test' })).toThrow(/CALLFLOW_SMTP_URL/);
  });

  it('CALLFLOW_MAIL_FROM must be one plain address, by the same rule as a template from', () => {
    // Accepted today; nodemailer then sends MAIL FROM:<ops> while the header says "ops,boss"@corp.example.
    expect(() => notificationSettings({ CALLFLOW_MAIL_FROM: 'ops,boss@corp.example' })).toThrow(/CALLFLOW_MAIL_FROM/);
  });
});
