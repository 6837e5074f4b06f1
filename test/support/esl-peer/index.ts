/**
 * EslPeer: a FreeSWITCH 1.11 Event Socket peer for tests, faithful to the recorded sessions in
 * ../../../../shared/fixtures/freeswitch/ (framing, reply texts, event headers and order), whose
 * calls behave as the project's simulator says (SimulatedSwitch playing a Scenario).
 *
 * ```ts
 * const clock = new VirtualClock(Date.parse(scenario.start_time));
 * const peer = new EslPeer({ clock, ids: new SeededIds(1), scenario, account, password: 'ClueCon', faults: {} });
 * const uuid = await peer.dial('127.0.0.1', enginePort);   // outbound: "FreeSWITCH" connects to the engine
 * const port = await peer.listen();                        // inbound: mod_event_socket on 127.0.0.1:<port>
 * // drive time: when the wire is quiet (see harness.ts), clock.advance()
 * peer.wireStats();        // { bytesIn, bytesOut } over every socket of the peer
 * peer.commandsReceived(); // every client command, raw, in arrival order
 * await peer.close();
 * ```
 *
 * - `new EslPeer(options: EslPeerOptions)`
 * - `dial(host: string, port: number, options?: DialOptions): Promise<string>`: a call arrives
 *   (the scenario's caller), the dialplan runs `socket host:port async full`, and the channel uuid
 *   resolves once TCP is connected. The peer sends nothing until `connect`.
 * - `listen(): Promise<number>`: the inbound server (greeting, auth, api, bgapi, events...).
 * - `wireStats(): { bytesIn: number; bytesOut: number; writes: number }` (writes: socket.write calls)
 * - `commandsReceived(): string[]`
 * - `liveChannels(): string[]`: channels FreeSWITCH still has (until CHANNEL_DESTROY).
 * - `inject(what: Injection, sockets?: 'outbound' | 'inbound' | 'any'): void`: raw bytes now.
 * - `drop(how?: 'destroy' | 'reset', sockets?: 'outbound' | 'inbound' | 'any'): void`: cut sockets now.
 * - `close(): Promise<void>`
 *
 * Events are written the moment the simulator emits them (during `clock.advance()`); replies
 * the moment a command is read. Nothing runs on real timers except socket I/O.
 *
 * Files: wire-format (server messages) and read-frames (their reading), url-encoding,
 * command-reader (client commands), subscriptions (event/myevents/filter), session (one socket),
 * channel-runner (one call: simulator events to FreeSWITCH's sequence), apps + dial-string +
 * causes + bridge-outcome (what an application means), fs-channel + event-headers + cdr (what
 * events say), api, faults + wire (write shaping), harness + raw-client (for tests).
 *
 * Choices where the recordings say nothing (from FreeSWITCH's source, or documented limits):
 * - Applications the simulator plays: answer, playback, say, record, sleep, set, bridge; hangup,
 *   unset, export, park, log, info are handled here. Any other name is an application
 *   FreeSWITCH does not have: switch_core_session_execute_application hangs the channel up with
 *   DESTINATION_OUT_OF_ORDER and sends no CHANNEL_EXECUTE (there is no -ERR reply to a queued app).
 * - Bridge legs: `user/<name>@<realm>` resolves to the account's device; an unknown user fails
 *   SUBSCRIBER_ABSENT, `error/<cause>` fails with that cause, other endpoint types count as
 *   unknown users. `a,b|c` mixes are read as one `|` chain. continue_on_fail is read from the
 *   channel (as mod_dptools does), not from the dial string's `{}`.
 * - The controlled channel is an inbound SIP call (`sofia/<profile>/<caller>@<realm>`, PCMU).
 * - `myevents <uuid>` binds an inbound socket (getvar, sendmsg without uuid) but the hangup does
 *   not linger/disconnect it; only the outbound socket gets that treatment.
 * - No API or log events are generated (`event plain ALL` sees channel events and BACKGROUND_JOB).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AccountView } from '../../../engine/call/account-view.ts';
import type { IdProvider } from '../../../engine/providers.ts';
import type { VirtualClock } from '../../../engine/virtual-clock.ts';
import type { Scenario } from '../../../integrations/simulator/scenario-schema.ts';
import { SimulatedSwitch } from '../../../integrations/simulator/simulated-switch.ts';
import { runApi, type ApiHost } from './api.ts';
import { ChannelRunner, type RunnerHost } from './channel-runner.ts';
import type { ClientCommand } from './command-reader.ts';
import { commonHeaders, RECORDED_HOST, type HostIdentity } from './event-headers.ts';
import { injectionBytes, type DropHow, type EslFaults, type Injection } from './faults.ts';
import { FsChannel } from './fs-channel.ts';
import { EslSession, type SessionHost } from './session.ts';
import type { Header } from './wire-format.ts';
import type { WireCounters } from './wire.ts';

export type { EslFaults, Injection, DropHow } from './faults.ts';
export type { Header, EventFormat, ServerFrame } from './wire-format.ts';

export interface EslPeerOptions {
  readonly clock: VirtualClock;
  readonly ids: IdProvider;
  readonly scenario: Scenario;
  /** The account whose devices `user/<name>@<realm>` bridge legs resolve to. */
  readonly account?: AccountView;
  /** Inbound password (default ClueCon). */
  readonly password?: string;
  readonly host?: HostIdentity;
  readonly faults?: EslFaults;
  /** The sofia profile in channel names (`sofia/<profile>/<caller>@<realm>`), default `internal`. */
  readonly profile?: string;
  /**
   * Without linger, what the outbound socket still gets after the hangup. FreeSWITCH races here:
   * `lost` (default) closes right after the running application's EXECUTE_COMPLETE, as
   * outbound-static-single-channel.txt shows; `delivered` sends up to CHANNEL_HANGUP_COMPLETE
   * first, as outbound-bgapi-job-owner.txt shows.
   */
  readonly noLingerTail?: 'lost' | 'delivered';
  /** Event-Sequence of the first event (default 1000). */
  readonly firstEventSequence?: number;
}

export interface DialOptions {
  /** `socket ... async` (default) or without async (static: sendmsg runs inline). */
  readonly socketMode?: 'async' | 'static';
  /** `socket ... full` (default) or not (single-channel: api, event, linger... are refused). */
  readonly control?: 'full' | 'single-channel';
  /** Variables the dialplan set before `socket` (they appear as variable_* everywhere). */
  readonly variables?: Readonly<Record<string, string>>;
}

export class EslPeer {
  private readonly clock: VirtualClock;
  private readonly model: SimulatedSwitch;
  private readonly runners = new Map<string, ChannelRunner>();
  private readonly sessions = new Set<EslSession>();
  private readonly counters: WireCounters = { bytesIn: 0, bytesOut: 0, writes: 0 };
  private readonly commands: string[] = [];
  private readonly hostId: HostIdentity;
  private readonly faults: EslFaults;
  private readonly faultState: SessionHost['faultState'];
  private readonly startedMs: number;
  private readonly sockets = new Set<Socket>();
  private sequence: number;
  private dialCount = 0;
  private refuseLeft: number;
  private server: Server | null = null;
  private readonly runnerHost: RunnerHost;
  private readonly sessionHost: SessionHost;

  constructor(private readonly options: EslPeerOptions) {
    this.clock = options.clock;
    this.model = new SimulatedSwitch(options.clock, options.ids, options.scenario);
    this.hostId = options.host ?? RECORDED_HOST;
    this.faults = options.faults ?? {};
    this.faultState = { rejectSendmsgLeft: this.faults.rejectSendmsg ?? 0, dropDone: false, delayLeft: this.faults.delayReply?.times ?? 1 };
    this.refuseLeft = this.faults.refuseInbound ?? 0;
    this.sequence = (options.firstEventSequence ?? 1000) - 1;
    this.startedMs = options.clock.now();
    this.runnerHost = {
      clock: options.clock,
      ids: options.ids,
      model: this.model,
      scenario: options.scenario,
      account: options.account,
      fire: (name, rest, body) => this.publish([...this.stamp(name), ...rest], body),
      destroyed: (uuid) => this.runners.delete(uuid),
    };
    this.sessionHost = {
      clock: options.clock,
      ids: options.ids,
      password: options.password ?? 'ClueCon',
      counters: this.counters,
      faults: this.faults,
      faultState: this.faultState,
      noLingerTail: options.noLingerTail ?? 'lost',
      received: (_s: EslSession, c: ClientCommand) => this.commands.push(c.raw.toString('utf8')),
      channel: (uuid) => this.runners.get(uuid),
      stamp: (name) => this.stamp(name),
      fire: (name, rest, body) => this.publish([...this.stamp(name), ...rest], body),
      publish: (headers, body) => this.publish(headers, body),
      api: (command, arg) => runApi(this.apiHost(), command, arg),
      closed: (s) => {
        this.sessions.delete(s);
        const runner = s.mode === 'outbound' && s.channelUuid ? this.runners.get(s.channelUuid) : undefined;
        // After the current event: the socket application ends as FreeSWITCH notices the close, not inside an event.
        if (runner) this.clock.setTimeout(() => runner.socketClosed(), 0);
      },
    };
  }

  // --- outbound ---------------------------------------------------------------------------------

  dial(host: string, port: number, options: DialOptions = {}): Promise<string> {
    const sc = this.options.scenario;
    const uuid = this.model.originate();
    const realm = this.options.account?.realm ?? 'example.invalid';
    const ch = new FsChannel({
      uuid,
      callerNumber: sc.call.from,
      callerName: sc.call.caller_id_name ?? sc.call.from,
      destination: sc.call.to ?? '',
      realm,
      profile: this.options.profile ?? 'internal',
      createdUs: Math.round(this.clock.now() * 1000),
      sessionId: ++this.dialCount,
    });
    this.initialVariables(ch, options.variables ?? {});
    const async = (options.socketMode ?? 'async') === 'async';
    const full = (options.control ?? 'full') === 'full';
    const runner = new ChannelRunner(ch, this.runnerHost, `${host}:${port}${async ? ' async' : ''}${full ? ' full' : ''}`);
    this.runners.set(uuid, runner);
    runner.start();
    ch.setVar('socket_host', host);
    return new Promise((resolve, reject) => {
      // mod_event_socket sets TCP_NODELAY: one instant's events are not held back by Nagle.
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      this.track(socket);
      let connected = false;
      socket.on('connect', () => {
        connected = true;
        this.sessions.add(new EslSession(this.sessionHost, socket, { runner, async, full }));
        resolve(uuid);
      });
      socket.on('error', (err) => {
        if (connected) return;
        // The socket application could not connect: the dialplan ends and the call is hung up.
        this.clock.setTimeout(() => runner.socketClosed(), 0);
        reject(err);
      });
    });
  }

  private initialVariables(ch: FsChannel, extra: Readonly<Record<string, string>>): void {
    const id = ch.id;
    const vars: [string, string][] = [
      ['direction', 'inbound'],
      ['uuid', ch.uuid],
      ['call_uuid', ch.uuid],
      ['session_id', String(id.sessionId)],
      ['sip_from_user', id.callerNumber],
      ['sip_from_uri', `${id.callerNumber}@${id.realm}`],
      ['sip_from_host', id.realm],
      ['channel_name', ch.name],
      ['sip_call_id', `${ch.uuid}@192.0.2.10`],
      ['sip_network_ip', '192.0.2.10'],
      ['sip_network_port', '5060'],
      ['sofia_profile_name', id.profile],
      ['sip_from_display', id.callerName],
      ['sip_req_user', id.destination],
      ['sip_req_uri', `${id.destination}@${id.realm}`],
      ['sip_req_host', id.realm],
      ['sip_to_user', id.destination],
      ['sip_to_uri', `${id.destination}@${id.realm}`],
      ['sip_to_host', id.realm],
      ['read_codec', 'PCMU'],
      ['read_rate', '8000'],
      ['write_codec', 'PCMU'],
      ['write_rate', '8000'],
      ['dtmf_type', 'rfc2833'],
      ['endpoint_disposition', 'RECEIVED'],
      ...Object.entries(extra),
    ];
    for (const [n, v] of vars) ch.setVar(n, v);
  }

  // --- inbound ----------------------------------------------------------------------------------

  listen(): Promise<number> {
    if (this.server) return Promise.reject(new Error('EslPeer is listening already'));
    const server = createServer({ noDelay: true }, (socket) => {
      this.track(socket);
      if (this.refuseLeft > 0) {
        this.refuseLeft--;
        socket.on('error', () => {});
        socket.resetAndDestroy();
        return;
      }
      this.sessions.add(new EslSession(this.sessionHost, socket, null));
    });
    server.on('error', () => {});
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : 0);
      });
    });
  }

  // --- observation and faults at run time -------------------------------------------------------

  wireStats(): { bytesIn: number; bytesOut: number; writes: number } {
    return { ...this.counters };
  }

  commandsReceived(): string[] {
    return [...this.commands];
  }

  liveChannels(): string[] {
    return [...this.runners.keys()];
  }

  inject(what: Injection, sockets: 'outbound' | 'inbound' | 'any' = 'any'): void {
    const bytes = injectionBytes(what);
    for (const s of this.sessions) if (sockets === 'any' || s.mode === sockets) s.inject(bytes);
  }

  drop(how: DropHow = 'destroy', sockets: 'outbound' | 'inbound' | 'any' = 'any'): void {
    for (const s of [...this.sessions]) if (sockets === 'any' || s.mode === sockets) s.cut(how);
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.cut('destroy');
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // --- plumbing ---------------------------------------------------------------------------------

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private stamp(name: string): Header[] {
    return commonHeaders(name, this.hostId, this.clock.now(), ++this.sequence);
  }

  private publish(headers: readonly Header[], body?: string): void {
    this.dropOnEvent(headers);
    for (const s of [...this.sessions]) s.deliver(headers, body);
  }

  /** The `drop: { when: { event } }` fault: the socket goes before the event does. */
  private dropOnEvent(headers: readonly Header[]): void {
    const drop = this.faults.drop;
    if (!drop || !('event' in drop.when) || this.faultState.dropDone) return;
    const get = (n: string): string | undefined => headers.find(([k]) => k === n)?.[1];
    if (get('Event-Name') !== drop.when.event) return;
    if (drop.when.application !== undefined && get('Application') !== drop.when.application) return;
    const uuid = get('Unique-ID');
    const sockets = drop.sockets ?? 'outbound';
    const targets = [...this.sessions].filter((s) => (sockets === 'any' || s.mode === sockets) && (s.mode === 'inbound' || s.channelUuid === uuid));
    if (targets.length === 0) return;
    this.faultState.dropDone = true;
    for (const s of targets) s.cut(drop.how ?? 'destroy');
  }

  private apiHost(): ApiHost {
    return {
      host: this.hostId,
      nowMs: this.clock.now(),
      startedMs: this.startedMs,
      sessionsSinceStartup: this.dialCount,
      channels: () => [...this.runners.values()].map((r) => r.ch),
      kill: (uuid, cause) => this.runners.get(uuid)?.hangup(cause),
    };
  }
}
