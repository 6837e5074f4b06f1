import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface Received {
  readonly envelopeTo: string[];
  readonly mail: ParsedMail;
  readonly raw: string;
  /** Wall-clock ms when the server accepted it. */
  readonly acceptedAt: number;
}

export interface SmtpBehaviour {
  /** Refuse these envelope recipients with 550. */
  rejectRecipients?: (address: string) => boolean;
  /** Answer DATA with a 451 temporary failure for the first N messages. */
  tempFailFirst?: number;
  /** Never answer the DATA of the first N messages (a server that hangs). */
  hangFirst?: number;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package) that nodemailer delivers to; every
 * accepted message is parsed back with mailparser.
 */
export class TestSmtpServer {
  readonly received: Received[] = [];
  /** What each message the server hung on had sent of itself (headers first), as it arrives. */
  readonly hung: string[] = [];
  dataStarted = 0;
  private server: SMTPServer;
  private waiters: (() => void)[] = [];
  port = 0;

  constructor(private readonly behaviour: SmtpBehaviour = {}) {
    this.server = this.create();
  }

  private create(): SMTPServer {
    let tempFails = this.behaviour.tempFailFirst ?? 0;
    let hangs = this.behaviour.hangFirst ?? 0;
    return new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onRcptTo: (address, _session, cb) => {
        if (this.behaviour.rejectRecipients?.(address.address)) {
          const err = new Error('5.1.1 no such user') as Error & { responseCode: number };
          err.responseCode = 550;
          cb(err);
          return;
        }
        cb();
      },
      onData: (stream: SMTPServerDataStream, session: SMTPServerSession, cb) => {
        this.dataStarted++;
        // Decided when the message starts: a sender killed mid-body still used up the hang.
        const hang = hangs > 0;
        if (hang) hangs--;
        const chunks: Buffer[] = [];
        const hungAt = hang ? this.hung.push('') - 1 : -1;
        stream.on('data', (c: Buffer) => {
          chunks.push(c);
          if (hang) this.hung[hungAt] += c.toString('utf8');
        });
        stream.on('end', () => {
          if (hang) return; // never answer
          if (tempFails > 0) {
            tempFails--;
            const err = new Error('4.3.0 try again later') as Error & { responseCode: number };
            err.responseCode = 451;
            cb(err);
            return;
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          void simpleParser(raw).then((mail) => {
            this.received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail, raw, acceptedAt: Date.now() });
            cb();
            for (const w of this.waiters.splice(0)) w();
          });
        });
      },
    });
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = ((this.server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} message(s), got ${this.received.length}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.received;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback port with nothing listening on it (for "the SMTP server is down"). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
