import type { Socket } from 'node:net';
import type Connection from 'modesl/lib/esl/Connection.js';
import type { EslEvent } from 'modesl/lib/esl/Parser.js';
import type { Logger } from '../../engine/execution.ts';
import { EslDisconnectedError, oneLine } from './errors.ts';
import { guardParser } from './framing-guard.ts';
import { ReplyQueue, type ReplyResult, type ReplyType, type Timers } from './reply-queue.ts';
import { wireEvent, type WireEvent } from './wire-event.ts';

/** The subscription modesl sends by itself once connected (or authenticated): its reply is ours to expect. */
export const MODESL_SUBSCRIBE = 'event json BACKGROUND_JOB CHANNEL_EXECUTE_COMPLETE';

export interface LinkHandlers {
  /** Every event frame, in wire order. */
  event(e: WireEvent): void;
  /** `text/disconnect-notice` (linger or disconnect). */
  notice?(headers: Readonly<Record<string, string>>): void;
  /** The inbound greeting. modesl answers it with `auth`; the owner only accounts for that reply. */
  authRequest?(): void;
  /** The link is closed for good; called once, after every waiting command has failed. */
  closed(why: string): void;
}

export interface LinkOptions {
  readonly timers: Timers;
  readonly replyTimeoutMs: number;
  readonly logger: Logger;
  /** Names the link in log lines (`call <uuid>`, `inbound 127.0.0.1:8021`). */
  readonly name: string;
  /** Only these event headers are taken from the wire (an outbound call needs a few dozen of ~150). */
  readonly eventHeaders?: ReadonlySet<string>;
}

/**
 * The socket layer under one modesl Connection: the only place bytes are written and frames
 * classified. It keeps an `error` listener on the connection for its whole life (pitfall 1),
 * guards the parser (pitfall 2), matches every reply to its command itself (pitfall 3: modesl's
 * `execute`/`send` leave replies unqueued), and when the socket goes, fails everything still
 * waiting at once (pitfall 5). Frames are written whole, in one `write`.
 */
export class EslLink {
  private readonly replies: ReplyQueue;
  private socket: Socket | null = null;
  private closeReason: string | null = null;
  private done = false;
  private lastError: string | null = null;
  private markFinished: () => void = () => {};
  /** Settles once the link is closed for good (after `closed` was called). */
  readonly finished: Promise<void> = new Promise((resolve) => (this.markFinished = resolve));

  constructor(
    readonly conn: Connection,
    private readonly handlers: LinkHandlers,
    private readonly options: LinkOptions,
  ) {
    this.replies = new ReplyQueue(options.timers, options.replyTimeoutMs);
    // Socket errors (ECONNRESET, ECONNREFUSED, writes after a close) and parser errors (bad JSON)
    // all come here; without a listener EventEmitter2 throws them and the process exits.
    conn.on('error', (err: unknown) => {
      this.lastError = oneLine(err);
      options.logger.warn(`${options.name}: ${this.lastError}`);
    });
  }

  /** Watches the socket: call right after modesl created it, before it can close. */
  attach(socket: Socket): void {
    this.socket = socket;
    socket.on('close', () => this.finish(this.closeReason ?? this.lastError ?? 'connection closed by FreeSWITCH'));
  }

  /** Starts reading: call as soon as modesl has created the parser, before any data can arrive. */
  attachParser(): void {
    const parser = this.conn.parser;
    if (!parser) throw new Error('modesl created no parser');
    guardParser(parser, (err) => {
      this.options.logger.warn(`${this.options.name}: ${oneLine(err)}; closing the connection`);
      this.close(oneLine(err));
    });
    parser.on('esl::event', (event: EslEvent, envelope: Record<string, unknown>) => this.onMessage(event, envelope));
  }

  get isOpen(): boolean {
    return this.socket !== null && !this.done && this.closeReason === null && !this.socket.destroyed;
  }

  /** Bytes this link read and wrote (the socket keeps its counts after it closes). */
  get bytes(): { bytesIn: number; bytesOut: number } {
    return { bytesIn: this.socket?.bytesRead ?? 0, bytesOut: this.socket?.bytesWritten ?? 0 };
  }

  /**
   * Writes one whole frame. `expect` is the reply type it will get; the slot is taken in the same
   * turn as the write, so slots stay in send order.
   */
  send(frame: string, label: string, expect: ReplyType): Promise<ReplyResult> {
    if (!this.isOpen) {
      return Promise.resolve({ ok: false, error: new EslDisconnectedError(label, this.lastError ?? 'the connection is closed') });
    }
    const reply = this.replies.expect(label, expect);
    this.socket!.write(frame);
    return reply;
  }

  /** A slot for a command modesl itself wrote (`connect`, `auth`, its `event json ...`). */
  expectWritten(label: string, type: ReplyType): Promise<ReplyResult> {
    return this.replies.expect(label, type);
  }

  /**
   * Ends the link now: the socket is destroyed, waiting commands fail with `why`, `closed` is
   * called, and no frame still in the parser's buffer (the rest of the chunk) is read.
   */
  close(why: string): void {
    if (this.done || this.closeReason !== null) return;
    this.closeReason = why;
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    // Not at the socket's 'close' event, a turn later: by then a reply later in the same chunk
    // could have settled the next waiting command.
    this.finish(why);
  }

  private finish(why: string): void {
    if (this.done) return;
    this.done = true;
    this.replies.failAll(why);
    try {
      this.handlers.closed(why);
    } catch (err) {
      this.options.logger.warn(`${this.options.name}: ${oneLine(err)}`);
    }
    this.markFinished();
  }

  private onMessage(event: EslEvent, envelope: Record<string, unknown>): void {
    // Closing (a protocol error, a rejection): the rest of the chunk is neither matched nor delivered.
    if (this.done || this.closeReason !== null) return;
    const contentType = typeof envelope['Content-Type'] === 'string' ? envelope['Content-Type'] : '';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(envelope)) if (typeof v === 'string') headers[k] = v;
    switch (contentType) {
      case 'command/reply':
      case 'api/response': {
        const text = contentType === 'command/reply' ? (headers['Reply-Text'] ?? '') : event.getBody();
        const problem = this.replies.take({ type: contentType, text, headers });
        if (problem) {
          this.options.logger.warn(`${this.options.name}: ${problem.message}; closing the connection`);
          this.close(problem.message);
        }
        return;
      }
      case 'text/event-plain':
      case 'text/event-json':
      case 'text/event-xml': {
        const e = wireEvent(event, contentType, this.options.eventHeaders);
        if (e) this.handlers.event(e);
        return;
      }
      case 'text/disconnect-notice':
        this.handlers.notice?.(headers);
        return;
      case 'auth/request':
        this.handlers.authRequest?.();
        return;
      case 'text/rude-rejection':
        this.close(`rejected by FreeSWITCH: ${event.getBody().trim()}`);
        return;
      default:
        // log/data and anything new: nothing the driver acts on.
        return;
    }
  }
}
