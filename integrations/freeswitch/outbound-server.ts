import { createServer, type Server } from 'node:net';
import { silentLogger, type Logger } from '../../engine/execution.ts';
import type { DialStringOptions } from './dial-string.ts';
import { EslListenError, oneLine } from './errors.ts';
import { OutboundSession, type OutboundCall } from './outbound-session.ts';
import { realTimers, type Timers } from './reply-queue.ts';
import type { SoundOptions } from './sounds.ts';

export interface OutboundServerOptions {
  /** Where FreeSWITCH's `socket <host>:<port> async full` connects. Default 127.0.0.1. */
  readonly host?: string;
  /** Default 8084; 0 picks a free port (read it back from `port`). */
  readonly port?: number;
  /** How long a command may wait for its command/reply. Default 5000 ms. */
  readonly replyTimeoutMs?: number;
  /** `linger <n>`: how long FreeSWITCH keeps the socket after hangup. Default 30 s (we `exit` as soon as HANGUP_COMPLETE is in). */
  readonly lingerSeconds?: number;
  /** How long to wait for FreeSWITCH to close after `exit` before closing from here. Default 5000 ms. */
  readonly exitTimeoutMs?: number;
  readonly dial?: DialStringOptions;
  readonly sounds?: SoundOptions;
  readonly logger?: Logger;
  /** Deadlines (tests may inject). Default: real timers. */
  readonly timers?: Timers;
}

export interface WireStats {
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface OutboundServer {
  readonly host: string;
  readonly port: number;
  /** Bytes read and written on every call socket so far (closed ones included). */
  wireStats(): WireStats;
  /**
   * The calls handed to the engine and not ended, by the uuid FreeSWITCH knows each channel by
   * now (what `show channels` lists, after any CHANNEL_UUID change).
   */
  liveCalls(): string[];
  /** Drops one call's socket (the engine sees CHANNEL_DISCONNECTED), by its current or first uuid. False if no such live call. */
  disconnectCall(uuid: string, why: string): boolean;
  /** Sockets taken whose handshake is not over: neither handed to `onCall` yet nor given up on. */
  handshaking(): number;
  /**
   * Settles once no socket is in its handshake (at once if none is): each has then reached
   * `onCall` or been given up on (with a log line). A shutdown waits for it before `close`.
   */
  handshakesDone(): Promise<void>;
  /**
   * Stops listening and drops every call socket still open. A socket still in its handshake
   * whose channel is known reaches `onCall` first, as disconnected.
   */
  close(): Promise<void>;
}

/**
 * Listens for FreeSWITCH's outbound sockets and hands each call to `onCall` once its handshake
 * is done (or, once the connect reply has named the channel, when its socket is lost before
 * that: the engine then sees it disconnected). One modesl Connection per socket, on our own net.Server (modesl's Server cannot
 * listen on port 0 and attaches no error listeners). `onCall` must not throw; if it does, that
 * call's socket is closed and the error logged.
 */
export async function startOutboundServer(options: OutboundServerOptions, onCall: (call: OutboundCall) => void): Promise<OutboundServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const sessions = new Set<OutboundSession>();
  const handshaking = (): number => [...sessions].filter((s) => s.inHandshake).length;
  let handshakeWaiters: (() => void)[] = [];
  /** A session left its handshake (handed over, or closed): wake the waiters once none is left. */
  const handshakeOver = (): void => {
    if (handshakeWaiters.length === 0 || handshaking() > 0) return;
    const w = handshakeWaiters;
    handshakeWaiters = [];
    for (const f of w) f();
  };
  const closedBytes = { bytesIn: 0, bytesOut: 0 };
  const sessionOptions = {
    render: { ...(options.dial ? { dial: options.dial } : {}), ...(options.sounds ? { sounds: options.sounds } : {}) },
    replyTimeoutMs: options.replyTimeoutMs ?? 5000,
    lingerSeconds: options.lingerSeconds ?? 30,
    exitTimeoutMs: options.exitTimeoutMs ?? 5000,
    timers: options.timers ?? realTimers,
    logger,
  };

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    try {
      const session = new OutboundSession(
        socket,
        sessionOptions,
        (call) => {
          try {
            onCall(call);
          } catch (err) {
            logger.warn(`call ${call.channelUuid}: onCall threw: ${oneLine(err)}`);
            session.disconnect('onCall failed');
          }
          handshakeOver();
        },
        (s) => {
          const b = s.bytes;
          closedBytes.bytesIn += b.bytesIn;
          closedBytes.bytesOut += b.bytesOut;
          sessions.delete(s);
          handshakeOver();
        },
      );
      sessions.add(session);
    } catch (err) {
      logger.warn(`outbound socket: ${oneLine(err)}`);
      socket.destroy();
    }
  });

  const port = await new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new EslListenError(`${host}:${options.port ?? 8084}`, err.code ?? 'EUNKNOWN', oneLine(err)));
    };
    server.once('error', onError);
    server.listen(options.port ?? 8084, host, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
  // Errors after listening (EMFILE on accept...) are logged; they must not take the process down.
  server.on('error', (err) => logger.warn(`outbound server ${host}:${port}: ${oneLine(err)}`));

  const live = (): OutboundSession[] => [...sessions].filter((s) => s.live && s.channelUuid !== null);
  return {
    host,
    port,
    wireStats() {
      let bytesIn = closedBytes.bytesIn;
      let bytesOut = closedBytes.bytesOut;
      for (const s of sessions) {
        const b = s.bytes;
        bytesIn += b.bytesIn;
        bytesOut += b.bytesOut;
      }
      return { bytesIn, bytesOut };
    },
    liveCalls: () => live().map((s) => s.switchUuid ?? s.channelUuid!),
    disconnectCall(uuid, why) {
      const s = live().find((x) => x.channelUuid === uuid || x.switchUuid === uuid);
      if (!s) return false;
      s.disconnect(why);
      return true;
    },
    handshaking,
    handshakesDone() {
      if (handshaking() === 0) return Promise.resolve();
      return new Promise<void>((resolve) => handshakeWaiters.push(resolve));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Each session's disconnect destroys its socket, so the server's close can complete.
        for (const s of [...sessions]) s.disconnect('the outbound server is closing');
        handshakeOver();
      });
    },
  };
}
