import { executeCall, type ExecutionSummary } from '../../engine/execution.ts';
import { RandomIds, SeededIds } from '../../engine/providers.ts';
import { VirtualClock } from '../../engine/virtual-clock.ts';
import { startOutboundServer, type OutboundServer, type OutboundServerOptions } from '../../integrations/freeswitch/outbound-server.ts';
import type { OutboundCall } from '../../integrations/freeswitch/outbound-session.ts';
import type { LoadedScenario } from '../../integrations/simulator/load-scenario.ts';
import { engineDepsFor, type SimulationDeps } from '../../integrations/simulator/run-scenario.ts';
import { EslPeer, type EslFaults } from './esl-peer/index.ts';

/**
 * `runScenario` (integrations/simulator/run-scenario.ts) through TCP: the ESL peer plays the
 * scenario's switch (the same SimulatedSwitch, behind a FreeSWITCH-faithful wire) and dials the
 * driver's outbound server; the engine runs on the call the driver hands over. One VirtualClock
 * is shared by the peer's model and the engine, and one SeededIds sequence, as runScenario
 * shares them between the simulator and the engine.
 */

export interface EslRunDeps extends SimulationDeps {
  /** Faults the peer injects (esl-peer/faults.ts). */
  readonly faults?: EslFaults;
  /** Driver options (timeouts, dial and sound mapping). */
  readonly driver?: Omit<OutboundServerOptions, 'host' | 'port'>;
}

export interface EslRun {
  readonly summary: ExecutionSummary;
  readonly call: OutboundCall;
  /** Every command the peer received, raw, in arrival order. */
  readonly commands: string[];
  readonly server: OutboundServer;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Turns in a row the wire must look quiet before time may move. */
const QUIET_TURNS = 3;
/** A cut socket can leave bytes that never arrive: a wire unchanged this long counts as quiet. */
const STALL_MS = 500;

export async function runScenarioOverEsl(loaded: LoadedScenario, deps: EslRunDeps): Promise<ExecutionSummary> {
  return (await runScenarioOverEslDetailed(loaded, deps)).summary;
}

export async function runScenarioOverEslDetailed(loaded: LoadedScenario, deps: EslRunDeps): Promise<EslRun> {
  const sc = loaded.scenario;
  const clock = new VirtualClock(Date.parse(sc.start_time));
  const ids = new SeededIds(sc.seed);
  const peer = new EslPeer({ clock, ids, scenario: sc, account: loaded.account.view, ...(deps.faults ? { faults: deps.faults } : {}) });
  let handOver: (c: OutboundCall) => void = () => {};
  const handedOver = new Promise<OutboundCall>((resolve) => (handOver = resolve));
  const server = await startOutboundServer({ ...deps.driver, host: '127.0.0.1', port: 0, ...(deps.logger ? { logger: deps.logger } : {}) }, (c) => handOver(c));
  try {
    await peer.dial('127.0.0.1', server.port);
    // The handshake needs no virtual time: the peer answers commands as it reads them.
    const call = await Promise.race([handedOver, pause(5000).then(() => Promise.reject(new Error('the driver did not hand the call over within 5 s')))]);
    let finished = false;
    const execution = executeCall(
      engineDepsFor(deps, clock, ids, 'esl-peer'),
      {
        sw: call.sw,
        channelUuid: call.channelUuid,
        account: loaded.account.view,
        router: loaded.account.router,
        callerNumber: call.callerNumber,
        callerName: call.callerName,
        calleeNumber: call.destination,
        ...(sc.call.device ? { deviceId: sc.call.device } : {}),
        ...(loaded.callflow ? { callflow: loaded.callflow } : {}),
        scenario: sc.name,
      },
    ).finally(() => {
      finished = true;
    });
    await driveClock(clock, peer, server, () => finished);
    const summary = await execution;
    await drain(peer, server);
    return { summary, call, commands: peer.commandsReceived(), server };
  } finally {
    clock.clear();
    await server.close();
    await peer.close();
  }
}

/** Lets the last bytes (the driver's `exit`) arrive before anything is closed, for a while at most. */
async function drain(peer: EslPeer, server: OutboundServer): Promise<void> {
  const until = Date.now() + 500;
  while (Date.now() < until) {
    const p = peer.wireStats();
    const d = server.wireStats();
    if (d.bytesOut === p.bytesIn && p.bytesOut === d.bytesIn) return;
    await pause(1);
  }
}

/**
 * Moves virtual time only when both sides are quiet: every byte the driver wrote was read by
 * the peer and the other way round, for QUIET_TURNS setImmediate turns in a row (the engine's
 * promise chains run between turns), as runScenario moves it once the engine has settled.
 */
async function driveClock(clock: VirtualClock, peer: EslPeer, server: OutboundServer, done: () => boolean): Promise<void> {
  let last = '';
  let quietTurns = 0;
  let changedAt = Date.now();
  while (!done()) {
    await settle();
    if (done()) return;
    const p = peer.wireStats();
    const d = server.wireStats();
    const key = `${p.bytesIn}/${p.bytesOut}/${d.bytesIn}/${d.bytesOut}`;
    if (key !== last) {
      last = key;
      changedAt = Date.now();
      quietTurns = 0;
    }
    const balanced = d.bytesOut === p.bytesIn && p.bytesOut === d.bytesIn;
    if (!balanced && Date.now() - changedAt < STALL_MS) {
      await pause(1);
      continue;
    }
    if (++quietTurns < QUIET_TURNS) continue;
    quietTurns = 0;
    // Nothing due on the virtual clock: the engine waits on real I/O (a post-hangup send).
    if (!clock.advance()) await pause(1);
  }
}
