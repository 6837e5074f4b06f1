import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { OutboxStore } from '../integrations/sqlite/outbox-store.ts';
import { processAlive, processTag } from '../integrations/sqlite/process-identity.ts';
import { cliAsync } from './support/cli.ts';
import { runtimeFor } from './support/notify.ts';
import { account, callflow, simulate, tempDir, writeJson } from './support/sim.ts';
import { freePort, TestSmtpServer, type SmtpBehaviour } from './support/smtp.ts';

const templates = [
  {
    id: 'missed',
    from: 'pbx@test.local',
    subject: 'Call from {{ caller_id.name }}',
    text: 'Hangup: {{ call.notify.hangup_cause }}',
    html: '<p>{{ caller_id.name }} {{ caller_id.name | raw }}</p>',
    to: { email_addresses: ['desk@test.local'] },
  },
];
const flow = { module: 'notification', data: { recipients: [{ type: 'email', id: 'ops@test.local' }], template_id: 'missed' } };
const servers: TestSmtpServer[] = [];
/** A runtime a test started and did not close itself: closed before the servers. */
let cleanupRt: { dispatcher: { close(): Promise<void> } } | undefined;
afterEach(async () => {
  await cleanupRt?.dispatcher.close();
  cleanupRt = undefined;
  for (const s of servers.splice(0)) await s.close();
});


/** A loopback SMTP server, and a scenario whose CLI runs deliver to it. */
async function smtpAndScenario(behaviour: SmtpBehaviour) {
  const smtp = new TestSmtpServer(behaviour);
  servers.push(smtp);
  await smtp.listen();
  const dir = tempDir();
  const scenario = files(dir);
  const db = join(dir, 'log.db');
  return { smtp, dir, scenario, db, env: { CALLFLOW_SMTP_URL: smtp.url, CALLFLOW_DB: db } };
}

function files(dir: string, callerName = 'Mallory') {
  writeJson(join(dir, 'account.json'), account([callflow('main', flow, ['100'])], { notification_templates: templates }));
  return writeJson(join(dir, 's.json'), { name: 's', account: 'account.json', call: { from: '+15550001111', caller_id_name: callerName, to: '100' } });
}

describe('outbox delivery', () => {
  it('SMTP down, then up: delivered exactly once after retries', async () => {
    const port = await freePort();
    let rt!: ReturnType<typeof runtimeFor>;
    const sim = await simulate({
      account: account([callflow('main', flow, ['100'])], { notification_templates: templates }),
      scenario: { call: { from: '1', to: '100' } },
      outbox: (db) => (rt = runtimeFor(db, { smtpUrl: `smtp://127.0.0.1:${port}`, retryMs: 100 })).outbox,
    });
    const store = new OutboxStore(sim.db, Date);
    // A refused attempt is recorded, and the message waits for the next one.
    const first = store.list({ limit: 5 })[0]!;
    for (const t = Date.now(); store.attempts(first.id).length === 0 && Date.now() - t < 5000; ) await new Promise((r) => setTimeout(r, 10));
    expect(store.attempts(first.id).map((a) => a.outcome)).toContain('temporary_failure');
    expect(store.list({ limit: 5 })[0]!.status).toBe('pending');
    const smtp = new TestSmtpServer();
    servers.push(smtp);
    await smtp.listen(port);
    await rt.dispatcher.drain(5000);
    await smtp.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received).toHaveLength(1);
    const [row] = store.list({ limit: 5 });
    expect(row!.status).toBe('sent');
    const attempts = store.attempts(row!.id);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    // Connection refused is worth another try.
    expect(attempts.slice(0, -1).every((a) => a.outcome === 'temporary_failure' && a.code === 'ESOCKET' && /ECONNREFUSED/.test(a.detail ?? ''))).toBe(true);
    expect(attempts.at(-1)!.outcome).toBe('sent');
    await rt.dispatcher.close();
  });

  it('the process killed mid-send after hangup: after a restart the message is delivered exactly once', async () => {
    const { smtp, scenario, db, env } = await smtpAndScenario({ hangFirst: 1 });
    // --deliver-timeout keeps the child waiting on the hung server until it is killed.
    const child = spawn(process.execPath, ['bin/callflow.js', 'simulate', scenario, '--deliver-timeout', '120'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    const deadline = Date.now() + 30_000;
    // Killed once the hung attempt has sent its headers, so its Message-ID is known.
    const hungMessageId = (): string | undefined => /^Message-ID:\s*(<[^>]+>)/im.exec(smtp.hung[0] ?? '')?.[1];
    while (!hungMessageId() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(smtp.dataStarted).toBe(1);
    const interrupted = hungMessageId();
    expect(interrupted).toMatch(/^<[0-9a-f]{32}@callflow-engine>$/);
    child.kill('SIGKILL');
    await exited;
    const before = new OutboxStore(openDatabase(db), Date).list({ limit: 5 });
    expect(before.map((r) => r.status)).toEqual(['sending']);
    expect(smtp.received).toHaveLength(0);

    const again = await cliAsync(['notifications', 'deliver'], env);
    expect(again.stdout.trim()).toBe('outbox: 1 sent, 0 pending, 0 failed');
    expect(again.stderr).toContain('1 message(s) were being sent when the last process stopped: retrying');
    await smtp.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.mail.text?.trim()).toBe('Hangup: NORMAL_CLEARING');
    const after = new OutboxStore(openDatabase(db), Date).list({ limit: 5 });
    expect(after.map((r) => [r.status, r.attempts])).toEqual([['sent', 2]]);
    // The restart sends the same message: a receiver that saw the interrupted copy can tell.
    expect(smtp.received[0]!.mail.messageId).toBe(interrupted);
  }, 90_000);

  it("a restarted process given its predecessor's pid (a container's pid 1) takes that predecessor's claims back at once", () => {
    const store = new OutboxStore(openDatabase(join(tempDir(), 'o.db')), Date);
    const claimed = (owner: string, key: string) => {
      store.enqueue('exec', 0, [{ idempotencyKey: key, medium: 'sms', recipient: '+15550000001', templateId: 't', nodeKey: 'n', sms: { body: 'b' } }]);
      return store.claimDue(1, owner, 600_000)[0]!.id;
    };
    const before = `${process.pid}:99:old`; // same pid, another start
    const legacy = `${process.pid}:old`; // same pid, written before starts were recorded
    const ours = processTag('live'); // a dispatcher of this very process
    const parentStart = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    const parent = `${process.ppid}:${parentStart}:tok`; // another process, still running
    const recycled = `${process.ppid}:1:tok`; // its pid, but not its start: the claimer is gone
    const ids = [before, legacy, ours, parent, recycled].map((o, i) => claimed(o, `k${i}`));
    expect([before, legacy, ours, parent, recycled].map(processAlive)).toEqual([false, false, true, true, false]);
    expect(store.recoverInterrupted(processAlive)).toBe(3);
    const status = (id: number) => store.list({ limit: 10 }).find((r) => r.id === id)!.status;
    expect(ids.map(status)).toEqual(['pending', 'pending', 'sending', 'sending', 'pending']);
  });

  it('with nothing configured, messages become .eml files (the fresh-machine default)', async () => {
    const dir = tempDir();
    const scenario = files(dir);
    const out = join(dir, 'out');
    const r = await cliAsync(['simulate', scenario, '--db', join(dir, 'log.db')], { CALLFLOW_OUTBOX_DIR: out, CALLFLOW_SMTP_URL: '' });
    expect(r.status).toBe(0);
    const emails = readdirSync(join(out, 'email'));
    expect(emails).toHaveLength(1);
    const eml = readFileSync(join(out, 'email', emails[0]!), 'utf8');
    expect(eml).toContain('To: ops@test.local');
    expect(eml).toContain('Subject: Call from Mallory');
  });

  it('bad settings are one line naming the variable, and never echo a secret', async () => {
    const dir = tempDir();
    const scenario = files(dir);
    const bad = await cliAsync(['simulate', scenario, '--db', join(dir, 'log.db')], { CALLFLOW_SMTP_URL: 'http://example.test' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('CALLFLOW_SMTP_URL: scheme must be smtp: or smtps: (got http:)');
    const sid = await cliAsync(['simulate', scenario, '--db', join(dir, 'log.db')], { TWILIO_ACCOUNT_SID: 'AC' + 'f'.repeat(32), TWILIO_AUTH_TOKEN: 'sekret-token-123' });
    expect(sid.stderr.trim()).toBe('TWILIO_FROM_NUMBER: set it, or TWILIO_MESSAGING_SERVICE_SID');
    expect(sid.stderr).not.toContain('sekret');
  });
});

describe('notification CLI', () => {
  it('notifications list, retry of a failed message, template preview of a recorded call', async () => {
    const { smtp, dir, scenario, env } = await smtpAndScenario({ rejectRecipients: () => true });
    const sim = await cliAsync(['simulate', scenario, '--deliver-timeout', '5'], env);
    expect(sim.stderr).toContain('notifications: 0 pending, 1 failed in the outbox');
    const failed = await cliAsync(['notifications', 'list', '--status', 'failed'], env);
    expect(failed.stdout).toMatch(/^#1 {2}failed {2}email {2}ops@test\.local {2}template missed {2}1 attempt\(s\) {2}last error 550 .*no such user/m);
    expect((await cliAsync(['notifications', 'list', '--status', 'lost'], env)).stderr.trim()).toBe(
      'callflow notifications list: --status must be one of pending, sending, sent, failed (got "lost")',
    );
    // The address is fixed on the server side; retry sends it now.
    await smtp.close();
    servers.pop();
    const good = new TestSmtpServer();
    servers.push(good);
    await good.listen(smtp.port);
    const retry = await cliAsync(['notifications', 'retry', '1'], env);
    expect(retry.status).toBe(0);
    expect(retry.stdout).toMatch(/^#1 {2}sent {2}email/);
    expect(good.received).toHaveLength(1);

    const exec = (await cliAsync(['trace', 'list', '--limit', '1'], env)).stdout.split('  ')[0]!;
    const preview = await cliAsync(['template', 'preview', 'missed', '--execution', exec, '--account', join(dir, 'account.json')], env);
    expect(preview.status).toBe(0);
    expect(preview.stdout).toBe(
      'subject: Call from Mallory\n\n--- text\nHangup: NORMAL_CLEARING\n\n--- html\n<p>Mallory Mallory</p>\n',
    );
  });
});

describe('templates are untrusted', () => {
  it('template preview masks control characters a caller put in their name', async () => {
    const dir = tempDir();
    const scenario = files(dir, 'Eve\u001b]0;PWNED\u0007\u001b[2J\u202eevil');
    const env = { CALLFLOW_DB: join(dir, 'log.db'), CALLFLOW_OUTBOX_DIR: join(dir, 'out') };
    await cliAsync(['simulate', scenario], env);
    const exec = (await cliAsync(['trace', 'list'], env)).stdout.split('  ')[0]!;
    const out = (await cliAsync(['template', 'preview', 'missed', '--execution', exec, '--account', join(dir, 'account.json')], env)).stdout;
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    expect(out.split('\n')[0]).toBe('subject: Call from Eve?]0;PWNED??[2J?evil');
  });

  it('caller values are escaped in HTML (even through `raw`) and cannot add headers', async () => {
    const smtp = new TestSmtpServer();
    servers.push(smtp);
    await smtp.listen();
    let rt!: ReturnType<typeof runtimeFor>;
    await simulate({
      account: account([callflow('main', flow, ['100'])], { notification_templates: templates }),
      scenario: { call: { from: '1', to: '100', caller_id_name: '<img src=x onerror=alert(1)>\tBcc: victim@evil.test' } },
      outbox: (db) => (rt = runtimeFor(db, { smtpUrl: smtp.url })).outbox,
    });
    await rt.dispatcher.drain(5000);
    const [m] = await smtp.waitFor(1);
    expect(m!.mail.html).toBe(
      '<p>&lt;img src=x onerror=alert(1)&gt;\tBcc: victim@evil.test &lt;img src=x onerror=alert(1)&gt;\tBcc: victim@evil.test</p>',
    );
    expect(m!.mail.subject).toBe('Call from <img src=x onerror=alert(1)> Bcc: victim@evil.test');
    expect(m!.mail.bcc).toBeUndefined();
    expect(m!.envelopeTo).toEqual(['ops@test.local']);
    expect(m!.raw).not.toMatch(/^Bcc:/m);
    await rt.dispatcher.close();
  });

  it('a line break in the subject (the template\'s or a value rendered into it) never makes a header: one line, no Bcc', async () => {
    const smtp = new TestSmtpServer();
    servers.push(smtp);
    await smtp.listen();
    const tpl = [{ id: 'inj', from: 'pbx@test.local', subject: 'Call {{ comments }}\r\nX-Template: yes', text: 'x' }];
    const data = { recipients: [{ type: 'email', id: 'ops@test.local' }], template_id: 'inj', comments: 'now\r\nBcc: victim@evil.test\n\nX-Injected: yes\r' };
    let rt!: ReturnType<typeof runtimeFor>;
    const sim = await simulate({
      account: account([callflow('main', { module: 'notification', data }, ['100'])], { notification_templates: tpl }),
      scenario: { call: { from: '1', to: '100' } },
      outbox: (db) => (rt = runtimeFor(db, { smtpUrl: smtp.url })).outbox,
    });
    cleanupRt = rt;
    await rt.dispatcher.drain(5000);
    const [m] = await smtp.waitFor(1);
    const subject = 'Call now Bcc: victim@evil.test X-Injected: yes X-Template: yes';
    expect(m!.mail.subject).toBe(subject);
    expect(m!.mail.bcc).toBeUndefined();
    expect([...m!.mail.headers.keys()].filter((k) => /^(bcc|x-injected|x-template)$/.test(k))).toEqual([]);
    expect(m!.raw).not.toMatch(/^(Bcc|X-Injected|X-Template):/im);
    expect(m!.envelopeTo).toEqual(['ops@test.local']);
    // The outbox keeps the same one line (a retry, the .eml transport and `notifications list` read it).
    const [row] = new OutboxStore(sim.db, Date).list({ limit: 5 });
    expect((JSON.parse(row!.message) as { subject: string }).subject).toBe(subject);
  });

  it('templates cannot read files or run code; a failure names the template and field', async () => {
    const { TemplateRenderer } = await import('../modules/notification/renderer.ts');
    const r = new TemplateRenderer();
    expect(() => r.render('t', 'text', "{% include '/etc/passwd' %}", {}, 'text')).toThrow(
      'template t: text: the "include" tag is not allowed in notification templates, line:1, col:1',
    );
    expect(() => r.render('t', 'text', "{% render 'x' %}", {}, 'text')).toThrow(/"render" tag is not allowed/);
    expect(r.render('t', 'text', '{{ call.constructor }}{{ call.__proto__ }}', { call: {} }, 'text')).toBe('');
    expect(() => r.render('t', 'text', '{% for i in (1..100000000) %}x{% endfor %}', {}, 'text')).toThrow(/limit exceeded/);
    expect(() => r.render('t', 'subject', '{{ x | shell }}', {}, 'text')).toThrow('template t: subject: undefined filter: shell, line:1, col:1');
    // A capture that appends a variable to itself doubles it each round: bounded like any filter.
    const doubling = (rounds: number) =>
      `{% assign s = "xxxxxxxxxx" %}{% for i in (1..${rounds}) %}{% capture s %}{{s}}{{s}}{% endcapture %}{% endfor %}{{ s | size }}`;
    expect(r.render('t', 'text', doubling(10), {}, 'text')).toBe('10240');
    expect(() => r.render('t', 'text', doubling(22), {}, 'text')).toThrow(/^template t: text: .*limit exceeded/);
    // Whatever way a field grows, it is never longer than MAX_RENDERED_CHARS.
    const { MAX_RENDERED_CHARS } = await import('../modules/notification/renderer.ts');
    expect(() => r.render('t', 'text', '{{ s }}{{ s }}', { s: 'x'.repeat(MAX_RENDERED_CHARS / 2 + 1) }, 'text')).toThrow(
      `template t: text: renders to ${MAX_RENDERED_CHARS + 2} characters, more than ${MAX_RENDERED_CHARS}`,
    );
  });
});

describe('sender address', () => {
  it('a template without "from" uses CALLFLOW_MAIL_FROM; with neither, the message fails for good with the reason', async () => {
    const dir = tempDir();
    const noFrom = [{ id: 'missed', subject: 'Hi', text: 'x', to: { email_addresses: ['desk@test.local'] } }];
    writeJson(join(dir, 'account.json'), account([callflow('main', flow, ['100'])], { notification_templates: noFrom }));
    const scenario = writeJson(join(dir, 's.json'), { name: 's', account: 'account.json', call: { from: '1', to: '100' } });
    const out = join(dir, 'out');
    const ok = await cliAsync(['simulate', scenario, '--db', join(dir, 'a.db')], { CALLFLOW_OUTBOX_DIR: out, CALLFLOW_MAIL_FROM: 'pbx@deploy.test' });
    expect(ok.status).toBe(0);
    const [eml] = readdirSync(join(out, 'email'));
    expect(readFileSync(join(out, 'email', eml!), 'utf8')).toContain('From: pbx@deploy.test');
    const none = await cliAsync(['simulate', scenario, '--db', join(dir, 'b.db')], { CALLFLOW_OUTBOX_DIR: out, CALLFLOW_MAIL_FROM: '' });
    expect(none.stderr).toContain('notifications: 0 pending, 1 failed');
    const listed = await cliAsync(['notifications', 'list', '--db', join(dir, 'b.db')], {});
    expect(listed.stdout).toContain('no sender address: set the template\'s "from" or CALLFLOW_MAIL_FROM');
    const bad = await cliAsync(['simulate', scenario, '--db', join(dir, 'c.db')], { CALLFLOW_MAIL_FROM: 'a@b.c\r\nBcc: x@y.z' });
    expect(bad.stderr.trim()).toBe('CALLFLOW_MAIL_FROM: must be one plain email address');
  });
});

describe('delivered headers', () => {
  it.each([[['cc1@test.local']], [['cc1@test.local', 'cc2@test.local']]])(
    "the template's Cc list %j is a Cc header on every copy (each envelope gets the message once; Bcc stays out of the headers)",
    async (ccList) => {
      const smtp = new TestSmtpServer();
      servers.push(smtp);
      await smtp.listen();
      const tpl = [
        {
          id: 'cc',
          from: 'pbx@test.local',
          subject: 'Copy',
          text: 'x',
          cc: { type: 'specified', email_addresses: ccList },
          bcc: { type: 'specified', email_addresses: ['archive@test.local'] },
        },
      ];
      const data = { recipients: [{ type: 'email', id: 'ops@test.local' }], template_id: 'cc' };
      let rt!: ReturnType<typeof runtimeFor>;
      await simulate({
        account: account([callflow('main', { module: 'notification', data }, ['100'])], { notification_templates: tpl }),
        scenario: { call: { from: '1', to: '100' } },
        outbox: (db) => (rt = runtimeFor(db, { smtpUrl: smtp.url })).outbox,
      });
      try {
        await rt.dispatcher.drain(5000);
        const mails = await smtp.waitFor(ccList.length + 2);
        expect(mails.map((m) => m.envelopeTo.join()).sort()).toEqual(['archive@test.local', ...ccList, 'ops@test.local'].sort());
        for (const m of mails) {
          const cc = m.mail.cc as { value: { address: string }[] } | undefined;
          expect(cc?.value.map((a) => a.address)).toEqual(ccList);
          expect(m.raw).toMatch(new RegExp(`^Cc: ${ccList.join(', ').replace(/\./g, '\\.')}\r?$`, 'm'));
          expect((m.mail.to as { value: { address: string }[] }).value.map((a) => a.address)).toEqual(['ops@test.local']);
          expect(m.raw).not.toMatch(/^Bcc:/im);
        }
      } finally {
        await rt.dispatcher.close();
      }
    },
  );
});
