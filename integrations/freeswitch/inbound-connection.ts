import { randomUUID } from 'node:crypto';
import Connection from 'modesl/lib/esl/Connection.js';
import { silentLogger, type Logger } from '../../engine/execution.ts';
import { EslAuthError, EslCommandError, EslCommandTimeoutError, EslConnectTimeoutError, EslDisconnectedError, EslError, oneLine } from './errors.ts';
import { EslLink, MODESL_SUBSCRIBE } from './esl-link.ts';
import { commandFrame } from './render.ts';
import { realTimers, type ReplyResult, type Timers } from './reply-queue.ts';
import { idSafe, wordSafe } from './safe-values.ts';
import type { WireEvent } from './wire-event.ts';

export type EslResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: EslError };

export type InboundState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

/** The calls a reconciliation checks, and how it ends the ones FreeSWITCH no longer has (an OutboundServer fits). */
export interface CallRegistry {
  liveCalls(): string[];
  disconnectCall(uuid: string, why: string): boolean;
}

export interface InboundOptions {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  /** From TCP connect to an authenticated session. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** api and other commands. Default 10000 ms. */
  readonly replyTimeoutMs?: number;
  /** bgapi, until its BACKGROUND_JOB. Default 120000 ms (an originate may ring a while). */
  readonly jobTimeoutMs?: number;
  /** Reconnect delays: initial, doubled (by `factor`) after each failed attempt, capped at max. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly factor?: number };
  /** Events subscribed (json) after every connect; BACKGROUND_JOB is always added. */
  readonly events?: readonly string[];
  /** After a reconnect, calls held here whose channel FreeSWITCH no longer has are ended. */
  readonly calls?: CallRegistry;
  readonly logger?: Logger;
  readonly timers?: Timers;
}

/** One row of `show channels as json` (the columns used; FreeSWITCH sends many more). */
export interface ChannelRow {
  readonly uuid: string;
  readonly name?: string;
  readonly state?: string;
  readonly [column: string]: unknown;
}

interface Job {
  readonly label: string;
  readonly timer: unknown;
  resolve(r: EslResult<string>): void;
}

/** The value checks and frame builders throw typed errors (EslError); these methods return them. */
function checked<T>(f: () => T): EslResult<T> {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    return { ok: false, error: err as EslError };
  }
}

/**
 * An inbound event socket for api/bgapi work (originate, uuid_kill, show channels), on modesl's
 * Connection(host, port, password). What modesl leaves out is done here: auth failure is a
 * typed, final result (modesl only emits esl::event::auth::fail); a connect timeout; reconnect
 * with exponential backoff; the subscription sent again after every reconnect; the calls still
 * held reconciled against `show channels`; and every pending api or bgapi answered with a
 * typed error the moment the socket goes (modesl keeps those callbacks forever).
 * Nothing here throws or rejects: every result is an EslResult.
 */
export class InboundConnection {
  private link: EslLink | null = null;
  private stateValue: InboundState = 'idle';
  private attempt = 0;
  private connects = 0;
  private retryTimer: unknown;
  private connectTimer: unknown;
  private readonly jobs = new Map<string, Job>();
  private readonly eventListeners = new Set<(e: WireEvent) => void>();
  private readonly stateListeners = new Set<(s: InboundState, why: string) => void>();
  private waiters: ((r: EslResult<void>) => void)[] = [];
  private finalError: EslError | null = null;
  private readonly timers: Timers;
  private readonly logger: Logger;

  constructor(private readonly options: InboundOptions) {
    this.timers = options.timers ?? realTimers;
    this.logger = options.logger ?? silentLogger;
  }

  get state(): InboundState {
    return this.stateValue;
  }

  private get target(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** Starts connecting (and reconnecting, until `close`). */
  start(): void {
    if (this.stateValue !== 'idle') return;
    this.connect();
  }

  /**
   * Resolves once connected: at once if already, else at the next successful connect; with the
   * auth error if the password is refused, or a disconnected error once closed.
   */
  ready(): Promise<EslResult<void>> {
    if (this.stateValue === 'connected') return Promise.resolve({ ok: true, value: undefined });
    if (this.stateValue === 'stopped') {
      return Promise.resolve({ ok: false, error: this.finalError ?? new EslDisconnectedError('connect', 'the connection was closed') });
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  onEvent(listener: (e: WireEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onState(listener: (s: InboundState, why: string) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** `api <command> [args]`: the body, or a typed error (a `-ERR` body is an EslCommandError). */
  async api(command: string, args = ''): Promise<EslResult<string>> {
    const line = args ? `api ${command} ${args}` : `api ${command}`;
    const frame = checked(() => commandFrame(line));
    if (!frame.ok) return frame;
    const link = this.link;
    if (!link || this.stateValue !== 'connected') return { ok: false, error: new EslDisconnectedError(line, `not connected to ${this.target}`) };
    const r = await link.send(frame.value, line, 'api/response');
    if (!r.ok) return r;
    const body = r.reply.text;
    if (body.startsWith('-ERR') || body.startsWith('-USAGE')) return { ok: false, error: new EslCommandError(line, body.trim()) };
    return { ok: true, value: body };
  }

  /** `bgapi <command> [args]`: the BACKGROUND_JOB's body, or a typed error. */
  async bgapi(command: string, args = ''): Promise<EslResult<string>> {
    const line = args ? `bgapi ${command} ${args}` : `bgapi ${command}`;
    const jobId = randomUUID();
    const frame = checked(() => commandFrame(line, { 'Job-UUID': jobId }));
    if (!frame.ok) return frame;
    const link = this.link;
    if (!link || this.stateValue !== 'connected') return { ok: false, error: new EslDisconnectedError(line, `not connected to ${this.target}`) };
    const timeoutMs = this.options.jobTimeoutMs ?? 120_000;
    // Registered before the write: the job's event may come ahead of the command's reply.
    const result = new Promise<EslResult<string>>((resolve) => {
      const timer = this.timers.setTimeout(() => {
        this.jobs.delete(jobId);
        resolve({ ok: false, error: new EslCommandTimeoutError(line, timeoutMs) });
      }, timeoutMs);
      this.jobs.set(jobId, { label: line, timer, resolve });
    });
    const accepted = await link.send(frame.value, line, 'command/reply');
    const refused = this.refusal(line, accepted);
    if (refused) {
      this.settleJob(jobId, { ok: false, error: refused });
    }
    return result;
  }

  /** `show channels as json`, parsed. */
  async showChannels(): Promise<EslResult<ChannelRow[]>> {
    const r = await this.api('show', 'channels as json');
    if (!r.ok) return r;
    try {
      const parsed = JSON.parse(r.value) as { rows?: unknown };
      const rows = Array.isArray(parsed.rows) ? parsed.rows : [];
      return { ok: true, value: rows.filter((x): x is ChannelRow => typeof x === 'object' && x !== null && typeof (x as ChannelRow).uuid === 'string') };
    } catch (err) {
      return { ok: false, error: new EslCommandError('api show channels as json', `not JSON: ${oneLine(err)}`) };
    }
  }

  async uuidExists(uuid: string): Promise<EslResult<boolean>> {
    const safe = checked(() => idSafe('uuid', uuid));
    if (!safe.ok) return safe;
    const r = await this.api('uuid_exists', uuid);
    return r.ok ? { ok: true, value: r.value.trim() === 'true' } : r;
  }

  async uuidKill(uuid: string, cause = 'NORMAL_CLEARING'): Promise<EslResult<string>> {
    const safe = checked(() => [idSafe('uuid', uuid), idSafe('cause', cause)]);
    if (!safe.ok) return safe;
    return this.api('uuid_kill', `${uuid} ${cause}`);
  }

  /**
   * `bgapi originate <dialString> <destination>`; the new channel's uuid on success. originate
   * splits its arguments at spaces, so each must be one word (a space in the destination would
   * add a dialplan and context), and without `${`, which the switch would expand.
   */
  async originate(dialString: string, destination: string): Promise<EslResult<string>> {
    const safe = checked(() => [wordSafe('originate dial string', dialString), wordSafe('originate destination', destination)]);
    if (!safe.ok) return safe;
    const r = await this.bgapi('originate', `${dialString} ${destination}`);
    return r.ok ? { ok: true, value: r.value.replace(/^\+OK\s*/, '').trim() } : r;
  }

  /** Stops for good: no reconnect; pending commands fail now. */
  close(): Promise<void> {
    this.setState('stopped', 'closed by the application');
    this.timers.clearTimeout(this.retryTimer);
    this.timers.clearTimeout(this.connectTimer);
    const link = this.link;
    this.link = null;
    this.failJobs('the connection was closed');
    this.resolveWaiters({ ok: false, error: this.finalError ?? new EslDisconnectedError('connect', 'the connection was closed') });
    if (!link) return Promise.resolve();
    link.close('closed by the application');
    return link.finished;
  }

  // --- the connection cycle --------------------------------------------------------------

  private connect(): void {
    this.setState('connecting', `connecting to ${this.target}`);
    let conn: Connection;
    try {
      conn = new Connection(this.options.host, this.options.port, this.options.password);
    } catch (err) {
      this.logger.warn(`inbound ${this.target}: ${oneLine(err)}`);
      this.scheduleRetry(oneLine(err));
      return;
    }
    const link: EslLink = new EslLink(
      conn,
      {
        event: (e) => this.onWireEvent(e),
        // modesl answers the greeting with `auth`, and after +OK accepted sends its own
        // subscription: both replies are ours to account for, in that order.
        authRequest: () => void this.authenticate(link, link.expectWritten('auth', 'command/reply'), link.expectWritten(MODESL_SUBSCRIBE, 'command/reply')),
        closed: (why) => this.onClosed(link, why),
      },
      { timers: this.timers, replyTimeoutMs: this.options.replyTimeoutMs ?? 10_000, logger: this.logger, name: `inbound ${this.target}` },
    );
    this.link = link;
    link.attach(conn.socket!);
    // Small commands should not wait for Nagle (FreeSWITCH sets TCP_NODELAY on its side too).
    conn.socket!.setNoDelay(true);
    // The parser only exists once the TCP connect is done; modesl says so synchronously.
    conn.on('esl::connect', () => link.attachParser());
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    this.connectTimer = this.timers.setTimeout(() => {
      const err = new EslConnectTimeoutError(this.target, timeoutMs);
      this.logger.warn(err.message);
      link.close(err.message);
    }, timeoutMs);
  }

  private async authenticate(link: EslLink, auth: Promise<ReplyResult>, subscribed: Promise<ReplyResult>): Promise<void> {
    const a = await auth;
    if (link !== this.link) return;
    if (!a.ok) return link.close(a.error.message);
    if (a.reply.text.trim() !== '+OK accepted') {
      // Retrying a refused password only locks the account or floods the log: stop here.
      this.finalError = new EslAuthError(a.reply.text.trim());
      this.logger.warn(this.finalError.message);
      this.setState('stopped', this.finalError.message);
      this.resolveWaiters({ ok: false, error: this.finalError });
      link.close(this.finalError.message);
      return;
    }
    const s = await subscribed;
    if (!s.ok) return link.close(s.error.message);
    const events = [...new Set(['BACKGROUND_JOB', ...(this.options.events ?? [])])];
    const sub = await link.send(commandFrame(`event json ${events.join(' ')}`), 'event json', 'command/reply');
    const refused = this.refusal('event json', sub);
    if (refused) {
      this.logger.warn(`inbound ${this.target}: ${refused.message}`);
      return link.close(refused.message);
    }
    if (link !== this.link || this.stateValue === 'stopped') return;
    this.timers.clearTimeout(this.connectTimer);
    this.attempt = 0;
    this.connects += 1;
    this.setState('connected', `connected to ${this.target}`);
    this.resolveWaiters({ ok: true, value: undefined });
    if (this.connects > 1) void this.reconcile();
  }

  /**
   * After a reconnect: calls the engine still holds whose channel FreeSWITCH no longer has
   * (the switch restarted, or the call ended while we were away) end as switch_disconnected.
   */
  private async reconcile(): Promise<void> {
    const calls = this.options.calls;
    if (!calls) return;
    const held = calls.liveCalls();
    if (held.length === 0) return;
    const shown = await this.showChannels();
    let alive: (uuid: string) => Promise<boolean>;
    if (shown.ok) {
      const set = new Set(shown.value.map((r) => r.uuid));
      alive = async (uuid) => set.has(uuid);
    } else {
      this.logger.warn(`inbound ${this.target}: show channels failed (${shown.error.message}); asking uuid_exists per call`);
      // An unanswered question is not proof of death: only a clear "false" ends a call.
      alive = async (uuid) => {
        const r = await this.uuidExists(uuid);
        return !r.ok || r.value;
      };
    }
    for (const uuid of held) {
      if (!(await alive(uuid))) {
        this.logger.warn(`call ${uuid}: FreeSWITCH no longer has this channel; ending it`);
        calls.disconnectCall(uuid, 'the channel no longer exists on FreeSWITCH');
      }
    }
  }

  private onWireEvent(e: WireEvent): void {
    if (e.name === 'BACKGROUND_JOB') {
      const id = e.headers['Job-UUID'];
      if (id && this.jobs.has(id)) {
        const body = e.body;
        this.settleJob(id, body.startsWith('-ERR') ? { ok: false, error: new EslCommandError(this.jobs.get(id)!.label, body.trim()) } : { ok: true, value: body });
      }
    }
    for (const l of this.eventListeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.warn(`inbound ${this.target}: an event listener threw: ${oneLine(err)}`);
      }
    }
  }

  private onClosed(link: EslLink, why: string): void {
    this.timers.clearTimeout(this.connectTimer);
    if (link !== this.link) return;
    this.link = null;
    this.failJobs(why);
    if (this.stateValue !== 'stopped') this.scheduleRetry(why);
  }

  private scheduleRetry(why: string): void {
    const b = this.options.backoff ?? {};
    const delay = Math.min(b.maxMs ?? 30_000, (b.initialMs ?? 250) * (b.factor ?? 2) ** this.attempt);
    this.attempt += 1;
    this.setState('waiting', `${why}; reconnecting in ${delay} ms`);
    this.logger.warn(`inbound ${this.target}: ${why}; reconnecting in ${delay} ms`);
    this.retryTimer = this.timers.setTimeout(() => {
      if (this.stateValue === 'waiting') this.connect();
    }, delay);
  }

  // --- helpers ---------------------------------------------------------------------------

  private refusal(label: string, r: ReplyResult): EslError | null {
    if (!r.ok) return r.error;
    return r.reply.text.startsWith('+OK') ? null : new EslCommandError(label, r.reply.text.trim());
  }

  private settleJob(id: string, r: EslResult<string>): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    this.timers.clearTimeout(job.timer);
    job.resolve(r);
  }

  private failJobs(why: string): void {
    for (const [id, job] of [...this.jobs]) this.settleJob(id, { ok: false, error: new EslDisconnectedError(job.label, why) });
  }

  private resolveWaiters(r: EslResult<void>): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f(r);
  }

  private setState(s: InboundState, why: string): void {
    if (this.stateValue === 'stopped') return;
    this.stateValue = s;
    for (const l of this.stateListeners) {
      try {
        l(s, why);
      } catch (err) {
        this.logger.warn(`inbound ${this.target}: a state listener threw: ${oneLine(err)}`);
      }
    }
  }
}
