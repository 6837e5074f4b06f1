import type { Socket } from 'node:net';
import { seededRandom, type DropHow } from './faults.ts';

/** Bytes across all of the peer's sockets, counted when the peer receives them and when it hands them to a socket. */
export interface WireCounters {
  bytesIn: number;
  bytesOut: number;
  /** socket.write calls: shows how a fault cut or gathered the messages. */
  writes: number;
}

export interface WireShaping {
  readonly split?: { readonly seed: number; readonly maxBytes: number };
  readonly coalesce?: boolean;
}

/**
 * The write side of one socket. Bytes count as sent as soon as the peer writes them (so a
 * harness comparing counters sees split or coalesced data as still in flight); bytes that a cut
 * or a closed socket keeps from ever leaving are taken back out.
 */
export class Wire {
  private readonly queue: Buffer[] = [];
  private pumping = false;
  private gathered: Buffer[] = [];
  private ending = false;
  private readonly random: (() => number) | null;

  constructor(
    private readonly socket: Socket,
    private readonly counters: WireCounters,
    private readonly shaping: WireShaping = {},
  ) {
    this.random = shaping.split ? seededRandom(shaping.split.seed) : null;
    socket.on('close', () => this.discard());
  }

  get open(): boolean {
    return !this.ending && !this.socket.destroyed && this.socket.writable;
  }

  write(data: Buffer): void {
    if (!this.open || data.length === 0) return;
    this.counters.bytesOut += data.length;
    if (this.random && this.shaping.split) {
      for (let pos = 0; pos < data.length; ) {
        const n = 1 + Math.floor(this.random() * this.shaping.split.maxBytes);
        this.queue.push(data.subarray(pos, pos + n));
        pos += n;
      }
      this.pump();
    } else if (this.shaping.coalesce) {
      if (this.gathered.length === 0) setImmediate(() => this.flushGathered());
      this.gathered.push(data);
    } else this.send(data);
  }

  private send(data: Buffer, cb?: () => void): void {
    this.counters.writes++;
    this.socket.write(data, cb);
  }

  /** A clean close: everything written so far goes out, then FIN. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.queue.length === 0 && this.gathered.length === 0 && !this.pumping) this.socket.end();
  }

  /** An abrupt one: FIN without flushing (`destroy`) or an RST (`reset`). */
  cut(how: DropHow): void {
    this.discard();
    // What Node still holds for the socket never leaves either.
    this.counters.bytesOut -= this.socket.writableLength;
    if (how === 'reset' && !this.socket.destroyed) {
      // libuv cannot reset a socket while a write is still in flight (Node then only closes it,
      // with a FIN); with TCP_NODELAY one usually is. Stop reading now, reset once it is out.
      const socket = this.socket;
      socket.pause();
      if (socket.writableLength === 0 && !socket.writableNeedDrain) setImmediate(() => socket.resetAndDestroy());
      else socket.once('drain', () => socket.resetAndDestroy());
    } else this.socket.destroy();
  }

  private flushGathered(): void {
    const data = Buffer.concat(this.gathered);
    this.gathered = [];
    if (this.socket.destroyed) return;
    this.send(data);
    if (this.ending && this.queue.length === 0) this.socket.end();
  }

  /** One piece per event-loop turn, so the client reads them as separate chunks. */
  private pump(): void {
    if (this.pumping) return;
    const piece = this.queue.shift();
    if (!piece) {
      if (this.ending && !this.socket.destroyed) this.socket.end();
      return;
    }
    this.pumping = true;
    this.send(piece, () =>
      setImmediate(() => {
        this.pumping = false;
        if (!this.socket.destroyed) this.pump();
      }),
    );
  }

  private discard(): void {
    for (const b of [...this.queue, ...this.gathered]) this.counters.bytesOut -= b.length;
    this.queue.length = 0;
    this.gathered = [];
  }
}
