import type { Socket } from 'node:net';
import type { IdProvider } from '../../../engine/providers.ts';
import type { VirtualClock } from '../../../engine/virtual-clock.ts';
import { causeName, switchTrue } from './causes.ts';
import type { ChannelRunner, ControlLink } from './channel-runner.ts';
import { CommandReader, header, type ClientCommand } from './command-reader.ts';
import { channelDataDump } from './event-headers.ts';
import { injectionBytes, type DropHow, type EslFaults } from './faults.ts';
import { Subscriptions } from './subscriptions.ts';
import { encodeFrame, type Header, type ServerFrame } from './wire-format.ts';
import { Wire, type WireCounters } from './wire.ts';

/**
 * One Event Socket connection, either side: an inbound client of mod_event_socket (greeting,
 * auth) or the outbound socket FreeSWITCH opened for a call (sends nothing until `connect`).
 * Commands are handled in parse_command's order, replies go out in command order, and events
 * the subscription wants go out as they are fired.
 */

export interface SessionHost {
  readonly clock: VirtualClock;
  readonly ids: IdProvider;
  readonly password: string;
  readonly counters: WireCounters;
  readonly faults: EslFaults;
  readonly noLingerTail: 'lost' | 'delivered';
  /** Shared one-shot fault state (the peer owns it so a fault fires once per peer). */
  readonly faultState: { rejectSendmsgLeft: number; dropDone: boolean; delayLeft: number };
  received(session: EslSession, command: ClientCommand): void;
  /** A channel FreeSWITCH still has (not destroyed). */
  channel(uuid: string): ChannelRunner | undefined;
  /** Common headers (with the next Event-Sequence) for an event about to be fired. */
  stamp(name: string): Header[];
  /** Fires an event switch-wide (common headers added). */
  fire(name: string, rest: readonly Header[], body?: string): void;
  /** Fires an event whose headers are complete (sendevent builds its own order). */
  publish(headers: readonly Header[], body?: string): void;
  /** An API's output, or null if FreeSWITCH has no such API. */
  api(command: string, arg: string): string | null;
  closed(session: EslSession): void;
}

export interface OutboundSetup {
  readonly runner: ChannelRunner;
  readonly async: boolean;
  readonly full: boolean;
}

interface PendingReply {
  readonly bytes: Buffer;
  /** Events still to go out before this reply (the delayReply fault). */
  waitEvents: number;
  /** Static-mode sendmsg: the reply waits for this application, and the socket's events wait for the reply. */
  waitApp: string | null;
}

const LOG_LEVELS: Readonly<Record<string, number>> = { console: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export class EslSession implements ControlLink {
  readonly subs = new Subscriptions();
  readonly mode: 'inbound' | 'outbound';
  private authed: boolean;
  private runner: ChannelRunner | null;
  readonly async: boolean;
  private readonly full: boolean;
  private readonly reader = new CommandReader();
  private readonly wire: Wire;
  /** Seconds to linger after the hangup (-1: until the client leaves), null: no linger. */
  private linger: number | null = null;
  private connected = false;
  private isClosed = false;
  private framesWritten = 0;
  private commandCount = 0;
  private injected = false;
  private readonly replies: PendingReply[] = [];
  private readonly heldEvents: Buffer[] = [];
  /** The command being handled, for the delayReply fault. */
  private lastCommand = '';
  private logging = false;

  constructor(
    private readonly host: SessionHost,
    readonly socket: Socket,
    outbound: OutboundSetup | null,
  ) {
    this.mode = outbound ? 'outbound' : 'inbound';
    this.authed = outbound !== null;
    this.runner = outbound?.runner ?? null;
    this.async = outbound?.async ?? true;
    this.full = outbound?.full ?? true;
    const { split, coalesce } = host.faults;
    this.wire = new Wire(socket, host.counters, { ...(split ? { split } : {}), ...(coalesce ? { coalesce } : {}) });
    socket.on('error', () => {});
    socket.on('close', () => this.finish());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (outbound) outbound.runner.bind(this);
    else this.writeFrame({ kind: 'auth-request' });
  }

  get open(): boolean {
    return !this.isClosed;
  }

  get channelUuid(): string | null {
    return this.runner?.ch.uuid ?? null;
  }

  // --- input ------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.host.counters.bytesIn += chunk.length;
    if (this.isClosed) return;
    let commands: ClientCommand[];
    try {
      commands = this.reader.push(chunk);
    } catch {
      // Framing past FreeSWITCH's caps: it drops the connection, so does the peer. Nothing a client
      // sends may throw out of a socket handler (that would end the test process).
      return this.cut('destroy');
    }
    for (const c of commands) {
      if (this.isClosed) return;
      this.host.received(this, c);
      this.commandCount++;
      const drop = this.host.faults.drop;
      if (drop && 'commandsReceived' in drop.when && this.commandCount === drop.when.commandsReceived && this.dropApplies(drop.sockets)) {
        this.host.faultState.dropDone = true;
        return this.cut(drop.how ?? 'destroy');
      }
      this.lastCommand = c.line;
      try {
        this.handle(c);
      } catch {
        this.reply('-ERR command parse error.');
      }
    }
  }

  dropApplies(sockets: 'outbound' | 'inbound' | 'any' | undefined): boolean {
    return !this.host.faultState.dropDone && (sockets === undefined || sockets === 'any' || sockets === this.mode);
  }

  private handle(c: ClientCommand): void {
    const cmd = c.line;
    const lower = cmd.toLowerCase();
    if (lower.startsWith('exit') || cmd.startsWith('...')) {
      this.reply('+OK bye');
      return this.goodbye();
    }
    if (!this.authed) {
      if (!lower.startsWith('auth ')) return this.reply('-ERR command not found');
      if (cmd.slice(5) === this.host.password) {
        this.authed = true;
        return this.reply('+OK accepted');
      }
      this.reply('-ERR invalid');
      return this.goodbye();
    }
    if (lower.startsWith('filter ')) return this.reply(this.subs.filter(cmd.slice(7)));
    if (this.runner && lower.startsWith('resume')) return this.reply('+OK');
    if (this.runner || lower.startsWith('myevents ')) {
      if (lower.startsWith('connect')) return this.connect();
      if (lower.startsWith('getvar')) {
        const sp = cmd.indexOf(' ');
        // An empty reply becomes "-ERR command not found" in parse_command, so does an unset variable.
        return this.reply((sp < 0 ? '' : this.runner?.getVar(cmd.slice(sp + 1))) || '-ERR command not found');
      }
      if (lower.startsWith('myevents')) return this.myevents(cmd);
    }
    if (lower.startsWith('divert_events')) return this.divert(cmd.slice(13).trim());
    if (lower.startsWith('sendmsg')) return this.sendmsg(c);
    // Single-channel outbound sockets stop here: everything below is refused.
    if (this.mode === 'outbound' && !this.full) return this.reply('-ERR command not found');
    if (lower.startsWith('sendevent')) return this.sendevent(c);
    if (lower.startsWith('api ')) return this.api(cmd.slice(4));
    if (lower.startsWith('bgapi ')) return this.bgapi(cmd.slice(6), header(c.headers, 'job-uuid'));
    if (lower.startsWith('log')) return this.log(cmd.slice(3).trim());
    if (lower.startsWith('linger')) return this.setLinger(cmd);
    if (lower.startsWith('nolinger')) {
      if (!this.runner) return this.reply('-ERR not controlling a session');
      this.linger = null;
      return this.reply('+OK will not linger');
    }
    if (lower.startsWith('nolog')) {
      const was = this.logging;
      this.logging = false;
      return this.reply(was ? '+OK no longer logging' : '-ERR not loging');
    }
    if (lower.startsWith('event')) return this.reply(this.subs.event(this.tokens(cmd)));
    if (lower.startsWith('nixevent')) return this.reply(this.subs.nixevent(this.tokens(cmd)));
    if (lower.startsWith('noevents')) return this.reply(this.subs.noevents());
    return this.reply('-ERR command not found');
  }

  private tokens(cmd: string): string[] {
    const sp = cmd.indexOf(' ');
    return sp < 0 ? [] : cmd.slice(sp + 1).split(' ');
  }

  private connect(): void {
    const runner = this.runner;
    if (!runner || this.mode !== 'outbound') return this.reply('-ERR command not found');
    if (!this.connected) {
      this.connected = true;
      runner.connected();
    }
    const headers = [...this.host.stamp('CHANNEL_DATA'), ...channelDataDump(runner.ch)];
    this.queueReply(encodeFrame({ kind: 'connect-reply', headers, socketMode: this.async ? 'async' : 'static', control: this.full ? 'full' : 'single-channel' }));
  }

  private myevents(cmd: string): void {
    if (this.subs.myeventsEnabled) return this.reply('-ERR aready enabled.');
    if (!this.runner) {
      const [uuid = '', fmt] = cmd.slice(9).trim().split(' ');
      const found = this.host.channel(uuid);
      if (found) this.runner = found;
      else if (fmt !== undefined) return this.reply('-ERR invalid uuid');
    }
    this.subs.enableMyevents(this.runner?.ch.uuid ?? null, cmd);
    this.reply('+OK Events Enabled');
  }

  private divert(onoff: string): void {
    if (!this.runner) return this.reply('-ERR not controlling a session.');
    if (onoff === '') return this.reply('-ERR missing value.');
    this.reply(onoff.toLowerCase() === 'on' ? '+OK events diverted' : '+OK events not diverted');
  }

  private setLinger(cmd: string): void {
    if (!this.runner) return this.reply('-ERR not controlling a session');
    const m = /^linger (\S.*)$/i.exec(cmd);
    this.linger = m ? Number.parseInt(m[1]!, 10) || 0 : -1;
    this.reply(this.linger === -1 ? '+OK will linger' : `+OK will linger ${this.linger} seconds`);
  }

  /** Accepted as FreeSWITCH does; the peer has no log lines to send. */
  private log(level: string): void {
    const n = /^\d+$/.test(level) ? Number(level) : level === '' ? 7 : LOG_LEVELS[level.toLowerCase()];
    if (n === undefined || n > 7) return this.reply('-ERR invalid log level');
    this.logging = true;
    this.reply(`+OK log level ${level} [${n}]`);
  }

  private sendmsg(c: ClientCommand): void {
    let uuid = c.line.slice(7).trim() || header(c.headers, 'session-id') || '';
    if (this.runner && uuid === this.runner.ch.uuid) uuid = '';
    const own = uuid === '' ? this.runner : null;
    const target = own ?? (uuid === '' ? undefined : this.host.channel(uuid));
    if (this.host.faultState.rejectSendmsgLeft > 0) {
      this.host.faultState.rejectSendmsgLeft--;
      return this.reply(`-ERR invalid session id [${uuid || this.runner?.ch.uuid || ''}]`);
    }
    if (!target) return this.reply(`-ERR invalid session id [${uuid}]`);
    const call = (header(c.headers, 'call-command') ?? '').toLowerCase();
    if (call === 'hangup') {
      target.hangup(causeName(header(c.headers, 'hangup-cause')));
      return this.reply('+OK');
    }
    if (call !== 'execute') return this.reply('+OK');
    const contentType = header(c.headers, 'content-type');
    const argHeader = header(c.headers, 'execute-app-arg');
    const arg = argHeader ?? (contentType?.toLowerCase() === 'text/plain' ? c.body ?? '' : '');
    const app = { appUuid: header(c.headers, 'event-uuid') ?? this.host.ids.uuid(), name: header(c.headers, 'execute-app-name') ?? '', arg };
    const queued = target.queueApp(app);
    // A static socket runs the application inline: its +OK comes when it is done.
    const inline = own !== null && !this.async && !switchTrue(header(c.headers, 'async'));
    this.queueReply(encodeFrame({ kind: 'command-reply', text: '+OK' }), inline && queued ? app.appUuid : null);
  }

  private sendevent(c: ClientCommand): void {
    const name = c.line.slice(9).trim().toUpperCase() || 'CUSTOM';
    const eventUuid = this.host.ids.uuid();
    const own = c.headers.filter(([n]) => n.toLowerCase() !== 'event-subclass');
    const subclass = header(c.headers, 'event-subclass');
    const headers: Header[] = [
      ...(subclass === undefined ? [] : [['Event-Subclass', subclass] as const]),
      ['Command', c.line],
      ...own,
      ['Event-UUID', eventUuid],
      ...this.host.stamp(name),
    ];
    this.host.publish(headers, c.body ?? undefined);
    this.reply(`+OK ${eventUuid}`);
  }

  private api(line: string): void {
    const sp = line.indexOf(' ');
    const [command, arg] = sp < 0 ? [line, ''] : [line.slice(0, sp), line.slice(sp + 1)];
    const out = this.host.api(command, arg);
    this.queueReply(encodeFrame({ kind: 'api-response', body: out ?? `-ERR ${command} Command not found!\n` }));
  }

  private bgapi(line: string, clientJobUuid: string | undefined): void {
    const sp = line.indexOf(' ');
    const [command, arg] = sp < 0 ? [line, null] : [line.slice(0, sp), line.slice(sp + 1)];
    const jobUuid = clientJobUuid ?? this.host.ids.uuid();
    const owner = this.runner?.ch.uuid;
    this.queueReply(encodeFrame({ kind: 'command-reply', text: `+OK Job-UUID: ${jobUuid}`, jobUuid }));
    // The job runs in its own thread: its event comes a moment after the reply.
    this.host.clock.setTimeout(() => {
      const out = this.host.api(command, arg ?? '') ?? `-ERR ${command} Command not found!\n`;
      const rest: Header[] = [['Job-UUID', jobUuid]];
      if (owner) rest.push(['Job-Owner-UUID', owner]);
      rest.push(['Job-Command', command]);
      if (arg !== null) rest.push(['Job-Command-Arg', arg]);
      this.host.fire('BACKGROUND_JOB', rest, out);
    }, 0);
  }

  // --- output -----------------------------------------------------------------------------------

  private reply(text: string): void {
    this.queueReply(encodeFrame({ kind: 'command-reply', text }));
  }

  /** Replies go out in command order; one held by a fault or a static application holds the ones after it. */
  private queueReply(bytes: Buffer, waitApp: string | null = null): void {
    const d = this.host.faults.delayReply;
    let waitEvents = 0;
    if (d && this.host.faultState.delayLeft > 0 && this.lastCommand.toLowerCase().startsWith(d.command.toLowerCase())) {
      this.host.faultState.delayLeft--;
      waitEvents = d.events;
    }
    this.replies.push({ bytes, waitEvents, waitApp });
    this.pumpReplies();
  }

  private pumpReplies(): void {
    while (this.replies.length > 0) {
      const head = this.replies[0]!;
      if (head.waitEvents > 0 || head.waitApp !== null) return;
      this.replies.shift();
      this.writeBytes(head.bytes);
    }
    for (const e of this.heldEvents.splice(0)) this.writeBytes(e);
  }

  /** An event the channel or switch fired; the subscription decides. */
  deliver(headers: readonly Header[], body: string | undefined): void {
    if (this.isClosed || !this.subs.wants(headers)) return;
    const bytes = encodeFrame({ kind: 'event', format: this.subs.format, headers, ...(body === undefined ? {} : { body }) });
    const head = this.replies[0];
    if (head?.waitApp) {
      this.heldEvents.push(bytes);
      return;
    }
    this.writeBytes(bytes);
    if (head && head.waitEvents > 0) {
      head.waitEvents--;
      this.pumpReplies();
    }
  }

  private writeFrame(f: ServerFrame): void {
    this.writeBytes(encodeFrame(f));
  }

  private writeBytes(bytes: Buffer): void {
    if (this.isClosed) return;
    this.wire.write(bytes);
    this.framesWritten++;
    const inject = this.host.faults.inject;
    const injectHere = inject && (inject.sockets === undefined || inject.sockets === 'any' || inject.sockets === this.mode);
    if (inject && injectHere && !this.injected && this.framesWritten === inject.afterFrames) {
      this.injected = true;
      this.wire.write(injectionBytes(inject.what));
    }
    const drop = this.host.faults.drop;
    if (drop && 'framesWritten' in drop.when && this.framesWritten === drop.when.framesWritten && this.dropApplies(drop.sockets)) {
      this.host.faultState.dropDone = true;
      this.cut(drop.how ?? 'destroy');
    }
  }

  /** Writes raw bytes now (a runtime injection). */
  inject(bytes: Buffer): void {
    if (!this.isClosed) this.wire.write(bytes);
  }

  // --- the end ----------------------------------------------------------------------------------

  /** The disconnect notice, then a clean close (exit, bad auth, linger over, no linger). */
  private goodbye(): void {
    this.pumpReplies();
    for (const r of this.replies.splice(0)) this.writeBytes(r.bytes);
    // send_disconnect names the session whenever the listener holds one (outbound, or inbound after `myevents <uuid>`).
    this.writeFrame({ kind: 'disconnect-notice', ...(this.runner ? { sessionUuid: this.runner.ch.uuid } : {}) });
    this.wire.end();
    this.finish();
  }

  /** Cuts the socket (a fault). */
  cut(how: DropHow): void {
    this.wire.cut(how);
    this.finish();
  }

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.host.closed(this);
  }

  teardownStarting(): void {
    // Applications that will never run release the static replies waiting for them.
    for (const r of this.replies) r.waitApp = null;
    this.pumpReplies();
    if (this.linger === null && this.host.noLingerTail === 'lost') this.goodbye();
  }

  teardownDone(): void {
    if (this.isClosed) return;
    const runner = this.runner;
    if (this.linger === null || !runner) return this.goodbye();
    this.writeFrame({ kind: 'linger-notice', sessionUuid: runner.ch.uuid, channelName: runner.ch.name, lingerSeconds: this.linger });
    if (this.linger >= 0) this.host.clock.setTimeout(() => !this.isClosed && this.goodbye(), this.linger * 1000);
  }

  appCompleted(appUuid: string): void {
    const head = this.replies.find((r) => r.waitApp === appUuid);
    if (!head) return;
    head.waitApp = null;
    this.pumpReplies();
  }
}
