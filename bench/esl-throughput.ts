import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import Connection from 'modesl/lib/esl/Connection.js';
import { startOutboundServer } from '../integrations/freeswitch/index.ts';
import { CommandReader } from '../test/support/esl-peer/command-reader.ts';
import { fullGc } from './esl-gc.ts';
import { connectReply, exitReply, reply, replyText } from './esl-recorded.ts';
import { buildStream, type EventStream } from './esl-stream.ts';

/**
 * Event throughput on one outbound connection: the same recorded stream parsed by a plain
 * modesl Connection (nothing else listening) and by the driver (a modesl Connection under the
 * driver's guarded parser, reply matching, event filtering and delivery to a listener standing
 * in for the engine). Everything runs in this process: the far end that writes the stream too,
 * the same way for both.
 */

const CHANNEL = '5e1f0c1a-7b2d-4c3e-9f40-b3e7c4d2a901';
const DEADLINE_MS = 60_000;

function deadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${DEADLINE_MS / 1000} s`)), DEADLINE_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

interface FarEnd {
  readonly socket: Socket;
  /** performance.now() just before the stream's first byte was written. */
  readonly startedAt: Promise<number>;
}

/**
 * A FreeSWITCH outbound socket in this process: dials `port`, answers `connect` with the
 * recorded CHANNEL_DATA reply and every other command with FreeSWITCH's command/reply, and once
 * `gate` resolves (the client is ready) runs a full GC and writes the whole stream in one `write`.
 */
function dialFarEnd(port: number, stream: Buffer, gate: Promise<void>, gc: () => void): FarEnd {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const reader = new CommandReader();
  socket.on('data', (d: Buffer) => {
    const out: Buffer[] = [];
    for (const c of reader.push(d)) {
      if (c.line === 'connect') out.push(connectReply(CHANNEL));
      else if (c.line === 'exit') out.push(exitReply(CHANNEL));
      else out.push(reply(replyText(c.line)!));
    }
    if (out.length > 0) socket.write(Buffer.concat(out));
  });
  const startedAt = gate.then(() => {
    // Whatever the setup left (the driver's thousands of sendmsgs) is collected before the clock starts.
    gc();
    const t0 = performance.now();
    socket.write(stream);
    return t0;
  });
  return { socket, startedAt };
}

/** modesl alone: counts every event its `esl::event::**` listener gets. Seconds from the first byte to the last event. */
async function modeslAlone(s: EventStream, gc: () => void): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let ready!: () => void;
  const gate = new Promise<void>((resolve) => (ready = resolve));
  let done!: (t: number) => void;
  let failed!: (err: Error) => void;
  const finished = new Promise<number>((resolve, reject) => ((done = resolve), (failed = reject)));
  let count = 0;
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    // Outbound form: modesl sends `connect`, then its `event json ...`; ready after both replies.
    const conn = new Connection(socket, () => ready());
    conn.on('error', (err: unknown) => failed(err instanceof Error ? err : new Error(String(err))));
    conn.on('esl::event::**', (_event: unknown, headers: Record<string, unknown> | undefined) => {
      if (headers?.['Content-Type'] === 'text/event-json' && ++count === s.events) done(performance.now());
    });
  });
  const far = dialFarEnd(port, s.bytes, gate, gc);
  try {
    const t1 = await deadline(finished, 'modesl alone');
    return (t1 - (await far.startedAt)) / 1000;
  } finally {
    far.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Through the driver: `startOutboundServer`, full handshake, then the stream. The listener
 * subscribed on the call's Switch counts what the engine would get; the stream ends with such
 * an event, so when the last one is delivered every event (filtered ones included) has been
 * parsed. The stream's applications are made the engine's first (one `sendmsg` each, answered
 * +OK by the far end, as FreeSWITCH does), so their EXECUTE events are delivered as a call's are.
 */
async function throughDriver(s: EventStream, gc: () => void): Promise<number> {
  let ready!: () => void;
  const gate = new Promise<void>((resolve) => (ready = resolve));
  let done!: (t: number) => void;
  let failed!: (err: Error) => void;
  const finished = new Promise<number>((resolve, reject) => ((done = resolve), (failed = reject)));
  let counting = false;
  let count = 0;
  const logger = { info() {}, warn: (line: string) => failed(new Error(`driver: ${line}`)) };
  // A generous reply deadline: the setup sends thousands of sendmsgs at once on a shared core.
  const server = await startOutboundServer({ port: 0, replyTimeoutMs: DEADLINE_MS, logger }, (call) => {
    call.sw.subscribe(call.channelUuid, () => {
      if (counting && ++count === s.delivered) done(performance.now());
    });
    void Promise.all(s.appUuids.map((id) => call.sw.execute(call.channelUuid, id, { app: 'answer' }))).then((acks) => {
      const bad = acks.find((a) => !a.ok);
      if (bad && !bad.ok) return failed(new Error(`driver setup: a sendmsg was refused: ${bad.reason}`));
      counting = true;
      ready();
    }, failed);
  });
  const far = dialFarEnd(server.port, s.bytes, gate, gc);
  try {
    const t1 = await deadline(finished, 'through the driver');
    return (t1 - (await far.startedAt)) / 1000;
  } finally {
    far.socket.destroy();
    await server.close();
  }
}

export interface ThroughputResult {
  readonly stream: EventStream;
  /** Events per second of each measured run, in run order. */
  readonly modesl: number[];
  readonly driver: number[];
}

/**
 * A warm-up pair on a shorter stream, then `rounds` pairs on the full one, alternating which
 * goes first; a full GC before every run so that no run pays for the garbage of another.
 */
export async function benchThroughput(cycles: number, rounds: number): Promise<ThroughputResult> {
  const gc = fullGc();
  const warm = buildStream(CHANNEL, Math.max(1, Math.round(cycles / 5)));
  const stream = buildStream(CHANNEL, cycles);
  const settle = async (): Promise<void> => {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  };
  await settle();
  await modeslAlone(warm, gc);
  await settle();
  await throughDriver(warm, gc);
  const modesl: number[] = [];
  const driver: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['modesl', 'driver'] : ['driver', 'modesl'];
    for (const which of order) {
      await settle();
      if (which === 'modesl') modesl.push(stream.events / (await modeslAlone(stream, gc)));
      else driver.push(stream.events / (await throughDriver(stream, gc)));
    }
  }
  return { stream, modesl, driver };
}
