import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CommandReader, header, type ClientCommand } from '../test/support/esl-peer/command-reader.ts';
import { serve, type FarReply, type FarRequest } from './esl-ipc.ts';
import { connectReply, exitReply, recordedEvent, reply, replyText } from './esl-recorded.ts';

/**
 * A child process playing FreeSWITCH for many calls at once: each call is one outbound socket
 * (`socket <host>:<port> async full`) dialled into the driver. Commands are answered as
 * FreeSWITCH 1.11 does in async mode (+OK at once, the application's events after), with the
 * recorded JSON events of inbound-event-json-call-lifecycle.txt (channel uuid and
 * Application-UUID swapped in). It measures, per call, the time from writing a playback's
 * CHANNEL_EXECUTE_COMPLETE to reading that call's next sendmsg.
 */

/** Record numbers of the recorded events each application produces. */
const REC = {
  setExecute: 24,
  setComplete: 25,
  answerExecute: 26,
  channelAnswer: 29,
  answerComplete: 33,
  playbackExecute: 46,
  playbackStart: 47,
  playbackStop: 50,
  playbackComplete: 51,
  hangup: 55,
  hangupComplete: 61,
} as const;

/** From a sendmsg's +OK to its application's CHANNEL_EXECUTE (set and answer complete then too). */
const APP_START_MS = 2;
/** Sockets opened at once; the next batch waits until this one's calls have sent their first command. */
const DIAL_BATCH = 100;

const OK = reply('+OK').toString('utf8');
const ev = (n: number, channel: string, app?: string): string => recordedEvent(n).template.render(app ? [channel, app] : [channel]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The sampling window (performance.now() values) and what it collected. */
const sampling = { start: Infinity, end: -Infinity, completions: 0, samples: [] as number[] };

class FarCall {
  readonly uuid = randomUUID();
  readonly socket: Socket;
  private readonly reader = new CommandReader();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The playback in progress (from its sendmsg until its COMPLETE is written). */
  private playing: string | null = null;
  private playbackStarted = false;
  /** When the last playback COMPLETE was written, until the call's next sendmsg. */
  private completedAt: number | null = null;
  private hold: boolean;
  private hungUp = false;
  closed = false;
  readonly firstCommand: Promise<void>;
  private markFirst: () => void = () => {};
  /** Settles once the held playback's CHANNEL_EXECUTE and PLAYBACK_START are flushed to the socket. */
  readonly held: Promise<void>;
  private markHeld: () => void = () => {};
  private heldId: string | null = null;
  readonly ended: Promise<void>;

  /** How long each prompt plays: uniform in [min, max) ms, so calls do not move in lockstep. */
  private readonly promptMs: () => number;

  constructor(port: number, hold: boolean, [min, max]: readonly [number, number]) {
    this.hold = hold;
    this.promptMs = () => min + Math.random() * (max - min);
    this.firstCommand = new Promise((r) => (this.markFirst = r));
    this.held = new Promise((r) => (this.markHeld = r));
    this.socket = connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('error', () => {});
    this.ended = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.closed = true;
        for (const t of this.timers) clearTimeout(t);
        resolve();
      }),
    );
    this.socket.on('data', (d: Buffer) => {
      for (const c of this.reader.push(d)) this.onCommand(c);
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
  }

  private write(text: string, flushed?: () => void): void {
    if (!this.closed) this.socket.write(text, flushed);
  }

  private onCommand(c: ClientCommand): void {
    if (c.line === 'connect') return this.write(connectReply(this.uuid).toString('utf8'));
    if (c.line === 'exit') {
      this.write(exitReply(this.uuid).toString('utf8'));
      this.socket.end();
      return;
    }
    if (c.line !== 'sendmsg') return this.write(reply(replyText(c.line)!).toString('utf8'));
    const now = performance.now();
    if (this.completedAt !== null) {
      if (this.completedAt >= sampling.start && this.completedAt < sampling.end) sampling.samples.push(now - this.completedAt);
      this.completedAt = null;
    }
    this.markFirst();
    this.write(OK);
    // A hung-up channel lingers: FreeSWITCH still takes the sendmsg (+OK) and runs nothing.
    if (this.hungUp) return;
    const app = header(c.headers, 'execute-app-name') ?? '';
    const id = header(c.headers, 'Event-UUID') ?? randomUUID();
    switch (app) {
      case 'answer':
        this.later(APP_START_MS, () => this.write(ev(REC.answerExecute, this.uuid, id) + ev(REC.channelAnswer, this.uuid) + ev(REC.answerComplete, this.uuid, id)));
        return;
      case 'playback':
        this.playing = id;
        this.playbackStarted = false;
        this.later(APP_START_MS, () => {
          this.playbackStarted = true;
          const frames = ev(REC.playbackExecute, this.uuid, id) + ev(REC.playbackStart, this.uuid, id);
          if (this.hold) {
            this.hold = false;
            this.heldId = id;
            this.write(frames, () => this.markHeld());
            return;
          }
          this.write(frames);
          this.later(this.promptMs(), () => this.endPlayback());
        });
        return;
      default:
        // `set` (the driver's playback_terminators) and anything else: runs at once.
        this.later(APP_START_MS, () => this.write(ev(REC.setExecute, this.uuid, id) + ev(REC.setComplete, this.uuid, id)));
    }
  }

  private endPlayback(): void {
    const id = this.playing;
    if (!id) return;
    this.playing = null;
    const at = performance.now();
    if (at >= sampling.start && at < sampling.end) sampling.completions++;
    this.completedAt = at;
    this.write(ev(REC.playbackStop, this.uuid, id) + ev(REC.playbackComplete, this.uuid, id));
  }

  /** Ends the held playback `afterMs` from now; the call then plays prompts in a loop. */
  release(afterMs: number): void {
    if (this.heldId === null) return;
    this.heldId = null;
    this.later(afterMs, () => this.endPlayback());
  }

  /** The caller hangs up: CHANNEL_HANGUP, the playback's end, CHANNEL_HANGUP_COMPLETE (the driver then sends `exit`). */
  hangup(): void {
    if (this.closed || this.hungUp) return;
    this.hungUp = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.completedAt = null;
    let frames = ev(REC.hangup, this.uuid);
    const id = this.playing;
    if (id) {
      if (this.playbackStarted) frames += ev(REC.playbackStop, this.uuid, id);
      frames += ev(REC.playbackComplete, this.uuid, id);
      this.playing = null;
    }
    this.write(frames + ev(REC.hangupComplete, this.uuid));
  }
}

const calls: FarCall[] = [];
const bytesOut = (): number => calls.reduce((n, c) => n + c.socket.bytesWritten, 0);
const live = (): FarCall[] => calls.filter((c) => !c.closed);

async function handle(req: FarRequest): Promise<FarReply> {
  switch (req.cmd) {
    case 'dial': {
      const opened: FarCall[] = [];
      for (let i = 0; i < req.calls; i += DIAL_BATCH) {
        const batch = Array.from({ length: Math.min(DIAL_BATCH, req.calls - i) }, () => new FarCall(req.port, req.hold, req.promptMs));
        opened.push(...batch);
        calls.push(...batch);
        await Promise.all(batch.map((c) => c.firstCommand));
      }
      if (req.hold) await Promise.all(opened.map((c) => c.held));
      const down = opened.filter((c) => c.closed).length;
      if (down > 0) throw new Error(`${down} of ${req.calls} calls were closed while dialling`);
      return { kind: 'up', calls: opened.length, bytesOut: bytesOut() };
    }
    case 'release': {
      const up = live();
      const t0 = performance.now();
      sampling.start = t0 + req.sampleAfterMs;
      sampling.end = sampling.start + req.sampleForMs;
      sampling.completions = 0;
      sampling.samples = [];
      for (const c of up) c.release(Math.random() * req.spreadMs);
      await sleep(req.sampleAfterMs + req.sampleForMs);
      // Every completion in the window must be followed by its call's next command.
      const until = performance.now() + 5000;
      while (sampling.samples.length < sampling.completions && performance.now() < until) await sleep(20);
      if (sampling.samples.length < sampling.completions) {
        throw new Error(`${sampling.completions - sampling.samples.length} of ${sampling.completions} playback completions got no next command within 5 s`);
      }
      const lost = up.filter((c) => c.closed).length;
      if (lost > 0) throw new Error(`${lost} calls were closed while looping`);
      return { kind: 'sampled', samples: sampling.samples, playbacks: sampling.completions, from: performance.timeOrigin + sampling.start, to: performance.timeOrigin + sampling.end, calls: up.length };
    }
    case 'hangup': {
      const up = live();
      for (const c of up) c.hangup();
      await Promise.all(up.map((c) => c.ended));
      return { kind: 'closed', bytesOut: bytesOut() };
    }
  }
}

serve<FarRequest, FarReply>(handle);
