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
