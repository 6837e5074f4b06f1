import { connect, createServer, type Server, type Socket } from 'node:net';
import { ClientSockets } from './harness.ts';
import { decodeFrame, MessageSplitter } from './read-frames.ts';
import type { Header, ServerFrame } from './wire-format.ts';

/**
 * A byte-level Event Socket client for tests: it sends exactly the text it is given and keeps
 * every message it reads, decoded (or raw, when a message does not decode), in order. No
 * library sits in between, so tests can replay recorded sessions and see the peer's bytes.
 */
export class RawEslClient {
  readonly messages: Buffer[] = [];
  readonly frames: (ServerFrame | null)[] = [];
  /** 'data' events seen: how the bytes were cut on the way. */
  chunks = 0;
  /** The socket closed. */
  ended = false;
  /** The peer closed it with a FIN (an orderly end of stream); an RST never gives one. */
  sawEnd = false;
  error: Error | null = null;
  private readonly splitter = new MessageSplitter();
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks++;
      for (const m of this.splitter.push(chunk)) {
        this.messages.push(m);
        const d = decodeFrame(m);
        this.frames.push(d.ok ? d.frame : null);
      }
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.wake();
    });
    socket.on('end', () => {
      this.sawEnd = true;
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(port: number, sockets?: ClientSockets): Promise<RawEslClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      sockets?.add(s);
      s.once('connect', () => resolve(new RawEslClient(s)));
      s.once('error', reject);
    });
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Decoded events, with their headers. */
  events(): { name: string; headers: readonly Header[]; body: string | undefined }[] {
    return this.frames.flatMap((f) =>
      f?.kind === 'event' ? [{ name: f.headers.find(([n]) => n === 'Event-Name')?.[1] ?? '', headers: f.headers, body: f.body }] : [],
    );
  }

  /** Reply-Text of every command/reply, in order. */
  replies(): string[] {
    return this.frames.flatMap((f) => (f?.kind === 'command-reply' ? [f.text] : []));
  }

  /** Waits (real time) until `cond` holds; the peer's replies need no virtual time. */
  async until(cond: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('RawEslClient.until: timed out');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A listening socket for outbound tests: the peer dials it, each connection becomes a RawEslClient. */
export class RawOutboundListener {
  readonly sockets = new ClientSockets();
  readonly clients: RawEslClient[] = [];
  private constructor(private readonly server: Server) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      this.clients.push(new RawEslClient(s));
    });
  }

  static async open(): Promise<RawOutboundListener> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return new RawOutboundListener(server);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  close(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
