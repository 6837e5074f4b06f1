// modesl 1.2.1 ships no typings: the small part of its API the engine and tests use.
declare module 'modesl/lib/esl/Parser.js' {
  import type { EventEmitter } from 'node:events';

  export interface EslEvent {
    headers: { name: string; value: string }[];
    body: string;
    getHeader(name: string): string | null;
    getBody(): string;
    getType(): string | null;
  }

  /** modesl's framing: reads `data` events of a socket-like emitter, emits 'esl::event'. */
  class Parser extends EventEmitter {
    constructor(socket: EventEmitter);
  }
  export default Parser;
}

declare module 'modesl/lib/esl/Connection.js' {
  import type { Socket } from 'node:net';
  import type { EslEvent } from 'modesl/lib/esl/Parser.js';

  /**
   * modesl's connection: (host, port, password[, onReady]) connects inbound and authenticates;
   * (socket[, onReady]) takes an outbound socket FreeSWITCH opened and sends `connect`. Every
   * object is an EventEmitter2 with `::` as the delimiter (esl-notes, section 2).
   */
  class Connection {
    constructor(host: string, port: number, password: string, onReady?: () => void);
    constructor(socket: Socket, onReady?: () => void);
    /** Set once the socket is connected (outbound: at once); its 'esl::event' emits every message. */
    parser: import('node:events').EventEmitter | undefined;
    /** Nulled by modesl on the socket's 'end'. */
    socket: Socket | null;
    getInfo(): EslEvent | null;
    on(event: string, listener: (...args: any[]) => void): this;
    once(event: string, listener: (...args: any[]) => void): this;
    removeAllListeners(event?: string): this;
    emit(event: string, ...args: unknown[]): boolean;
  }
  export default Connection;
}
