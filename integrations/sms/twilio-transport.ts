import twilio from 'twilio';
import type { DeliveryResult, SmsDelivery, SmsTransport } from '../notify/transport.ts';

export interface TwilioSettings {
  readonly accountSid: string;
  readonly authToken: string;
  /** A sending number (E.164), or a Messaging Service SID. */
  readonly from?: string;
  readonly messagingServiceSid?: string;
  /** Another API host (a lab or test server speaking Twilio's API), e.g. http://127.0.0.1:4010. */
  readonly baseUrl?: string;
}

/**
 * Twilio's answers, as retry decisions: 429 and 5xx (and no answer at all) may clear; any other
 * 4xx (21211 invalid number, 21610 unsubscribed, ...) will not, and keeps Twilio's code.
 */
export function classifyTwilioError(err: unknown): DeliveryResult {
  const e = err as { status?: number; code?: number | string; message?: string };
  const reason = (e.message ?? String(err)).split('\n')[0]!;
  if (typeof e.status === 'number') {
    const temporary = e.status === 429 || e.status >= 500;
    return { ok: false, temporary, code: e.code !== undefined ? String(e.code) : `http:${e.status}`, reason };
  }
  return { ok: false, temporary: true, code: typeof e.code === 'string' ? e.code : null, reason };
}

/** SMS through the official twilio client (its own retries off: the outbox owns the retry policy). */
export class TwilioTransport implements SmsTransport {
  readonly description: string;
  private readonly client: ReturnType<typeof twilio>;

  constructor(private readonly s: TwilioSettings) {
    this.client = twilio(s.accountSid, s.authToken, { autoRetry: false });
    // The client has no setting for another host; this is the documented way to point Messages elsewhere.
    if (s.baseUrl) this.client.api.baseUrl = s.baseUrl.replace(/\/+$/, '');
    this.description = `twilio ${s.baseUrl ?? 'api.twilio.com'} as ${s.accountSid.slice(0, 6)}…`;
  }

  async send(d: SmsDelivery): Promise<DeliveryResult> {
    try {
      const m = await this.client.messages.create({
        to: d.recipient,
        body: d.sms.body,
        // Both set: the service sends, from that number (Twilio wants it in the service's sender pool).
        ...(this.s.messagingServiceSid ? { messagingServiceSid: this.s.messagingServiceSid } : {}),
        ...(this.s.from ? { from: this.s.from } : {}),
      });
      return { ok: true, providerId: m.sid };
    } catch (err) {
      return classifyTwilioError(err);
    }
  }

  close(): void {}
}
