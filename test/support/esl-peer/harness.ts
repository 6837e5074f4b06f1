import type { Socket } from 'node:net';
import type { VirtualClock } from '../../../engine/virtual-clock.ts';

/**
 * Drives virtual time for a test that talks to an EslPeer over real sockets: time only moves
 * when the wire is quiet (every byte the peer wrote was read by the client and the other way
 * round), as integrations/simulator/run-scenario.ts moves it when the engine has settled.
 */

export interface WireSide {
  wireStats(): { bytesIn: number; bytesOut: number };
}

/** The client's side of the count, over every socket it ever had (closed ones keep their totals). */
export class ClientSockets {
  private readonly sockets: Socket[] = [];

  add(socket: Socket): void {
    this.sockets.push(socket);
  }

  stats(): { bytesIn: number; bytesOut: number } {
    let bytesIn = 0;
    let bytesOut = 0;
    for (const s of this.sockets) {
      bytesIn += s.bytesRead;
      bytesOut += s.bytesWritten;
    }
    return { bytesIn, bytesOut };
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs until `done()` holds: settles promise chains, waits out bytes in flight, then advances
 * the clock by one step. A cut socket can leave bytes that never arrive, so a wire that has
 * not changed for `stallMs` of real time also counts as quiet.
 */
export async function runUntil(
  clock: VirtualClock,
  peer: WireSide,
  client: () => { bytesIn: number; bytesOut: number },
  done: () => boolean,
  { maxSteps = 5000, stallMs = 1000 }: { maxSteps?: number; stallMs?: number } = {},
): Promise<void> {
  let last = '';
  let sameSince = Date.now();
  for (let step = 0; step < maxSteps; step++) {
    await settle();
    if (done()) return;
    const p = peer.wireStats();
    const c = client();
    const key = `${p.bytesIn}/${p.bytesOut}/${c.bytesIn}/${c.bytesOut}`;
    if (key !== last) {
      last = key;
      sameSince = Date.now();
    }
    const quiet = (p.bytesOut === c.bytesIn && p.bytesIn === c.bytesOut) || Date.now() - sameSince > stallMs;
    if (!quiet) {
      await pause(1);
      continue;
    }
    if (!clock.advance()) await pause(2);
  }
  throw new Error('runUntil: the condition did not hold within the step budget');
}
