import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import Connection from 'modesl/lib/esl/Connection.js';
import type { Logger } from '../../engine/execution.ts';
import type { ChannelEvent, CommandAck, Switch, SwitchCommand } from '../../engine/switch.ts';
import { createFromChannelData, deliverable, DISCONNECT_REASON_HEADER, SESSION_EVENT_HEADERS, synthesized } from './channel-events.ts';
import { EslDisconnectedError, oneLine, UnsafeValueError } from './errors.ts';
import { EslLink, MODESL_SUBSCRIBE } from './esl-link.ts';
import { commandFrame, renderCommand, sendmsgFrame, type RenderOptions, type RenderState } from './render.ts';
import type { ReplyResult, Timers } from './reply-queue.ts';
import { idSafe } from './safe-values.ts';
import type { WireEvent } from './wire-event.ts';

/** The headers the link kept are the engine's, apart from the uuid-change bookkeeping. */
function withoutOldUuid(h: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (h['Old-Unique-ID'] === undefined) return h;
  const { 'Old-Unique-ID': _, ...rest } = h;
  return rest;
}

/** The connect reply's mode header that rules the socket out (`Name: value`), or undefined. */
function socketModeProblem(data: Readonly<Record<string, string>>): string | undefined {
  // static: sendmsg's +OK only comes once the application has finished, so a long one would hit
  // the reply deadline and its CHANNEL_EXECUTE_COMPLETE would be dropped.
  const mode = data['Socket-Mode'];
  if (mode && mode !== 'async') return `Socket-Mode: ${mode}`;
  // single-channel control refuses linger (and without it CHANNEL_HANGUP_COMPLETE is lost).
  const control = data['Control'];
  if (control && control !== 'full') return `Control: ${control}`;
  return undefined;
}

/** A call FreeSWITCH handed over, ready for `executeCall`. */
export interface OutboundCall {
  /** The Switch for this one channel. */
  readonly sw: Switch;
  readonly channelUuid: string;
  readonly callerNumber: string;
  readonly callerName: string;
  readonly destination: string;
  /** The channel's variables from the connect reply (`variable_` prefix removed). */
  readonly variables: Readonly<Record<string, string>>;
}

export interface SessionOptions {
  readonly render: RenderOptions;
  readonly replyTimeoutMs: number;
  readonly lingerSeconds: number;
  readonly exitTimeoutMs: number;
  readonly timers: Timers;
  readonly logger: Logger;
}

/**
 * Events myevents leaves out that the engine uses. JSON, because modesl parses it about twice
 * as fast as plain, and its values arrive raw: modesl does not URL-decode them, so no caller
 * supplied `%` can reach a decoder.
 */
export const EXTRA_EVENTS = ['PLAYBACK_START', 'PLAYBACK_STOP', 'RECORD_START', 'RECORD_STOP'] as const;

/** `-ERR invalid session id [...]` and friends: the channel is gone, not the command wrong. */
const GONE_REPLY = /invalid session id|no such channel|session not found/i;

type State = 'handshake' | 'live' | 'ending' | 'closed';

/**
 * One outbound socket = one channel. Runs the handshake (connect, myevents json, the extra
 * events, linger), then implements Switch for that channel: renders SwitchCommands as sendmsgs,
 * turns their replies into CommandAcks, and delivers the channel's events to the engine in wire
 * order, with the two FreeSWITCH never sends here synthesized: CHANNEL_CREATE at connect and
 * CHANNEL_DESTROY after CHANNEL_HANGUP_COMPLETE. A socket lost before that becomes
 * CHANNEL_DISCONNECTED; lost in the handshake once the connect reply has named the channel, the
 * call is still handed over (CHANNEL_CREATE, then CHANNEL_DISCONNECTED), so none is lost unrecorded.
 */
export class OutboundSession implements Switch {
  private readonly link: EslLink;
  private state: State = 'handshake';
  /** The channel uuid the engine knows (events are delivered under it). */
  private engineUuid: string | null = null;
  /** FreeSWITCH's current uuid for the channel (CHANNEL_UUID can change it). */
  private wireUuid: string | null = null;
  private listener: ((e: ChannelEvent) => void) | undefined;
  private readonly backlog: ChannelEvent[] = [];
  private flushing = false;
  /** Application-UUIDs of applications the engine started: only their EXECUTE events reach it. */
  private readonly engineApps = new Set<string>();
  private readonly renderState: RenderState = { bridgeVariablesSet: false };
  /** DESTROY or DISCONNECTED went to the engine: nothing more of this channel will. */
  private channelOver = false;
  private exitTimer: unknown;
  /** The call as the connect reply named it; set once the channel is known. */
  private known: OutboundCall | null = null;
  /** FreeSWITCH's end of the socket, for log lines before the channel is known. */
  private readonly peer: string;

  constructor(
    socket: Socket,
    private readonly options: SessionOptions,
    private readonly onCall: (call: OutboundCall) => void,
    private readonly onClosed: (session: OutboundSession) => void,
  ) {
    const conn = new Connection(socket);
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.link = new EslLink(
      conn,
      {
        event: (e) => this.onWireEvent(e),
        notice: (h) => this.onNotice(h),
        closed: (why) => this.onLinkClosed(why),
      },
      {
        timers: options.timers,
        replyTimeoutMs: options.replyTimeoutMs,
        logger: options.logger,
        name: `outbound ${this.peer}`,
        eventHeaders: SESSION_EVENT_HEADERS,
      },
    );
    this.link.attach(socket);
    this.link.attachParser();
    // modesl's Connection(socket) writes these two itself: `connect`, then, from the connect reply's
    // callback, its own subscription. Their replies take the first two slots.
    const connect = this.link.expectWritten('connect', 'command/reply');
    const subscribed = this.link.expectWritten(MODESL_SUBSCRIBE, 'command/reply');
    void this.handshake(connect, subscribed).catch((err) => this.abandon(`handshake failed: ${oneLine(err)}`));
  }

  /** The uuid FreeSWITCH knows the channel by now (it changes with CHANNEL_UUID; the engine keeps the first). */
  get switchUuid(): string | null {
    return this.wireUuid;
  }

  get channelUuid(): string | null {
    return this.engineUuid;
  }

  get bytes(): { bytesIn: number; bytesOut: number } {
    return this.link.bytes;
  }

  /** Live: handed to the engine and not ended. */
  get live(): boolean {
    return this.state === 'live' || this.state === 'ending';
  }

  /** The socket is taken, and the call neither handed to `onCall` yet nor given up on. */
  get inHandshake(): boolean {
    return this.state === 'handshake';
  }

  private async handshake(connect: Promise<ReplyResult>, subscribed: Promise<ReplyResult>): Promise<void> {
    const c = await connect;
    if (!c.ok) return this.abandon(`connect: ${c.error.message}`);
    const data = c.reply.headers;
    if (!c.reply.text.startsWith('+OK')) return this.abandon(`connect refused: ${c.reply.text.trim()}`);
    let uuid: string;
    try {
      uuid = idSafe('Unique-ID', data['Unique-ID'] ?? '');
    } catch (err) {
      return this.abandon(`connect reply: ${oneLine(err)}`);
    }
    const wrongMode = socketModeProblem(data);
    if (wrongMode) return this.abandon(`the dialplan must use "socket <host>:<port> async full" (got ${wrongMode})`);
    if (this.state !== 'handshake') return;
    this.engineUuid = uuid;
    this.wireUuid = uuid;
    // First in line, ahead of anything the channel does from now on (a caller may hang up mid-handshake).
    this.backlog.push(createFromChannelData(uuid, data));
    const variables: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) if (k.startsWith('variable_')) variables[k.slice(9)] = v;
    // From here the call is the engine's, whatever happens to the socket (see onLinkClosed).
    this.known = {
      sw: this,
      channelUuid: uuid,
      callerNumber: data['Caller-Caller-ID-Number'] ?? '',
      callerName: data['Caller-Caller-ID-Name'] ?? '',
      destination: data['Caller-Destination-Number'] ?? '',
      variables,
    };
    const s = await subscribed;
    if (!s.ok) return this.lost(`subscribe: ${s.error.message}`);
    const replies = await Promise.all([
      this.command('myevents json'),
      this.command(`event json ${EXTRA_EVENTS.join(' ')}`),
      this.command(`linger ${this.options.lingerSeconds}`),
    ]);
    for (const [i, r] of replies.entries()) {
      const what = ['myevents', 'event', 'linger'][i];
      if (!r.ok) return this.lost(`${what}: ${r.error.message}`);
      if (!r.reply.text.startsWith('+OK')) return this.abandon(`${what} refused: ${r.reply.text}`);
    }
    if (this.state !== 'handshake') return;
    this.state = 'live';
    this.onCall(this.known);
    // A caller who hung up during the handshake: the engine still gets the whole call, then it ends.
    if (this.channelOver) this.finishCall('the channel hung up');
  }

  private command(line: string): Promise<ReplyResult> {
    return this.link.send(commandFrame(line), line, 'command/reply');
  }

  /** The call cannot be run: say why once and let FreeSWITCH carry on with its dialplan. */
  private abandon(why: string): void {
    if (this.state !== 'handshake') return;
    this.options.logger.warn(`outbound call ${this.engineUuid ?? '(no uuid yet)'}: ${why}`);
    this.state = 'closed';
    this.link.close(why);
  }

  /**
   * The link failed mid-handshake (a reply that never came, or the socket already gone) after
   * the channel was named: closing it hands the call over as disconnected (onLinkClosed).
   */
  private lost(why: string): void {
    if (this.state !== 'handshake') return;
    this.link.close(why);
  }

  // --- Switch ----------------------------------------------------------------------------

  subscribe(uuid: string, listener: (event: ChannelEvent) => void): () => void {
    if (uuid !== this.engineUuid) return () => {};
    this.listener = listener;
    this.scheduleFlush();
    return () => {
      if (this.listener !== listener) return;
      this.listener = undefined;
      // The engine is done with this call: whatever state the channel is in, release the socket.
      this.finishCall('the engine released the call');
    };
  }

  async execute(uuid: string, applicationUuid: string, command: SwitchCommand): Promise<CommandAck> {
    if (uuid !== this.engineUuid) return { ok: false, reason: `invalid session id [${uuid}]`, gone: true };
    if (this.state !== 'live' || !this.link.isOpen) return { ok: false, reason: 'the connection to FreeSWITCH for this call is closed', gone: true };
    let messages;
    try {
      messages = renderCommand(command, applicationUuid, this.renderState, randomUUID, this.options.render);
    } catch (err) {
      if (err instanceof UnsafeValueError) return { ok: false, reason: err.message, gone: false };
      throw err;
    }
    const sent = messages.map((m) => {
      // Registered before the write: the app's events may come ahead of the sendmsg's reply.
      if (m.callCommand === 'execute' && !m.internal) this.engineApps.add(m.eventUuid);
      const label = m.callCommand === 'hangup' ? `sendmsg hangup ${m.cause}` : `sendmsg ${m.app}`;
      return this.link.send(sendmsgFrame(m, null), label, 'command/reply');
    });
    const replies = await Promise.all(sent);
    for (const [i, r] of replies.entries()) {
      const m = messages[i]!;
      if (r.ok && !r.reply.text.startsWith('-ERR')) continue;
      for (const x of messages) if (x.callCommand === 'execute') this.engineApps.delete(x.eventUuid);
      if (!r.ok) return { ok: false, reason: r.error.message, gone: r.error instanceof EslDisconnectedError };
      const reason = r.reply.text.replace(/^-ERR\s*/, '').trim() || 'refused';
      if (m.internal) this.options.logger.warn(`call ${this.engineUuid}: ${m.callCommand === 'execute' ? m.arg : ''} refused: ${reason}`);
      return { ok: false, reason, gone: GONE_REPLY.test(reason) };
    }
    return { ok: true };
  }

  // --- events ----------------------------------------------------------------------------

  private onWireEvent(e: WireEvent): void {
    if (!this.wireUuid || this.channelOver) return;
    const uid = e.headers['Unique-ID'];
    if (e.name === 'CHANNEL_UUID' && e.headers['Old-Unique-ID'] === this.wireUuid && uid) {
      this.wireUuid = uid;
      return;
    }
    if (uid !== this.wireUuid || !deliverable(e.name)) return;
    if (e.name === 'CHANNEL_EXECUTE' || e.name === 'CHANNEL_EXECUTE_COMPLETE') {
      // The socket app, park, the driver's own `set`s: none of them is the engine's business.
      const app = e.headers['Application-UUID'];
      if (!app || !this.engineApps.has(app)) return;
      if (e.name === 'CHANNEL_EXECUTE_COMPLETE') this.engineApps.delete(app);
    }
    if (e.name === 'CHANNEL_DESTROY') {
      // Never sent to an outbound socket by FreeSWITCH 1.11; should one come, it is the real one.
      this.deliver({ name: e.name, uuid: this.engineUuid!, headers: withoutOldUuid(e.headers) });
      this.channelOver = true;
      this.finishCall('the channel was destroyed');
      return;
    }
    this.deliver({ name: e.name, uuid: this.engineUuid!, headers: withoutOldUuid(e.headers) });
    if (e.name === 'CHANNEL_HANGUP_COMPLETE') {
      // The last event a lingering outbound socket gets: the channel is over.
      this.deliver(synthesized('CHANNEL_DESTROY', this.engineUuid!, { 'Answer-State': 'hangup', 'Hangup-Cause': e.headers['Hangup-Cause'] ?? '' }));
      this.channelOver = true;
      this.finishCall('the channel hung up');
    }
  }

  private onNotice(headers: Readonly<Record<string, string>>): void {
    // `linger` comes after CHANNEL_HANGUP_COMPLETE; `disconnect` just before FreeSWITCH closes.
    if (headers['Content-Disposition'] === 'linger') this.finishCall('linger notice');
  }

  private deliver(e: ChannelEvent): void {
    if (this.listener && this.backlog.length === 0) {
      this.call(this.listener, e);
      return;
    }
    this.backlog.push(e);
    this.scheduleFlush();
  }

  /**
   * Events that came before the engine subscribed wait here. They are handed over on a later
   * turn, as the simulator's clock does: the engine has started its first step by then.
   */
  private scheduleFlush(): void {
    if (this.flushing || !this.listener || this.backlog.length === 0) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      while (this.listener && this.backlog.length > 0) this.call(this.listener, this.backlog.shift()!);
    });
  }

  private call(listener: (e: ChannelEvent) => void, e: ChannelEvent): void {
    try {
      listener(e);
    } catch (err) {
      this.options.logger.warn(`call ${this.engineUuid}: the engine threw on ${e.name}: ${oneLine(err)}`);
    }
  }

  // --- the end ---------------------------------------------------------------------------

  /**
   * The channel is over (or the engine let it go): `exit` asks FreeSWITCH to close the socket,
   * and a deadline closes it from here if FreeSWITCH does not.
   */
  private finishCall(why: string): void {
    if (this.state !== 'live') return;
    this.state = 'ending';
    this.options.logger.info(`call ${this.engineUuid}: ${why}; closing its socket`);
    void this.command('exit');
    this.exitTimer = this.options.timers.setTimeout(() => this.link.close('exit not answered'), this.options.exitTimeoutMs);
  }

  /** Forces the socket shut (server shutdown, a reconciliation that found the channel gone). */
  disconnect(why: string): void {
    this.link.close(why);
  }

  private onLinkClosed(why: string): void {
    this.options.timers.clearTimeout(this.exitTimer);
    const handed = this.state === 'live' || this.state === 'ending';
    const inHandshake = this.state === 'handshake';
    this.state = 'closed';
    if (inHandshake && this.known) {
      // The connect reply named the channel, so the call is not dropped: the engine gets it
      // with what the backlog holds (CHANNEL_CREATE, whatever came since), then
      // CHANNEL_DISCONNECTED, and records it (switch_disconnected, or refused while shutting down).
      this.options.logger.warn(`outbound call ${this.known.channelUuid}: the connection closed during its handshake (${why}); handing it to the engine as disconnected`);
      if (!this.channelOver) this.deliver(synthesized('CHANNEL_DISCONNECTED', this.known.channelUuid, { [DISCONNECT_REASON_HEADER]: why }));
      this.channelOver = true;
      this.onCall(this.known);
    } else if (inHandshake) {
      this.options.logger.warn(`outbound ${this.peer}: connection lost in its handshake, before FreeSWITCH named the channel: ${why}`);
    }
    if (handed && !this.channelOver && this.engineUuid) {
      // The control connection is gone while the channel may still be up: KAZOO's
      // CHANNEL_DISCONNECTED. Commands still waiting for a reply have failed just before this.
      this.deliver(synthesized('CHANNEL_DISCONNECTED', this.engineUuid, { [DISCONNECT_REASON_HEADER]: why }));
    }
    this.channelOver = true;
    this.onClosed(this);
  }
}
