import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SmsRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string;
  readonly contentType: string;
  readonly form: Record<string, string>;
}

export interface TwilioError {
  readonly status: number;
  readonly code: number;
  readonly message: string;
}

/**
 * A local HTTP server speaking Twilio's Messages API: POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json with Basic auth and a form body; 201 with a
 * Message resource, or Twilio's error JSON ({code, message, more_info, status}).
 */
export class TestTwilioServer {
  readonly requests: SmsRequest[] = [];
  private readonly server: Server;
  port = 0;
  private seq = 0;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
    private readonly errorFor: (to: string, n: number) => TwilioError | undefined = () => undefined,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const body = await new Promise<string>((resolve) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString('utf8')));
      req.on('end', () => resolve(b));
    });
    const form = Object.fromEntries(new URLSearchParams(body));
    const reply = (status: number, json: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const path = req.url ?? '';
    this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization ?? '', contentType: req.headers['content-type'] ?? '', form });
    const expectedAuth = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
    if (req.headers.authorization !== expectedAuth) {
      return reply(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    }
    if (req.method !== 'POST' || path !== `/2010-04-01/Accounts/${this.accountSid}/Messages.json`) {
      return reply(404, { code: 20404, message: 'The requested resource was not found', more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 });
    }
    const n = this.requests.length;
    const err = this.errorFor(form.To ?? '', n);
    if (err) return reply(err.status, { code: err.code, message: err.message, more_info: `https://www.twilio.com/docs/errors/${err.code}`, status: err.status });
    const sid = `SM${String(++this.seq).padStart(32, '0')}`;
    reply(201, {
      sid,
      account_sid: this.accountSid,
      to: form.To,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      body: form.Body,
      status: 'queued',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`,
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get delivered(): SmsRequest[] {
    return this.requests.filter((r) => r.authorization.startsWith('Basic '));
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
