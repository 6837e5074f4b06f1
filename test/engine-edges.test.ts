// Edges of the engine that a scenario cannot reach through the simulator alone: what the switch
// reports is tampered with (a header left out, a key FreeSWITCH would never send, a generic
// disposition), and the call is otherwise a normal simulated one, recorded in the SQLite step log.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallControl } from '../engine/call/call-control.ts';
import { SchemaValidator } from '../engine/documents/validator.ts';
import { executeCall } from '../engine/execution.ts';
import { next } from '../engine/executor/next.ts';
import type { CallflowModule } from '../engine/module.ts';
import { FixedClock, SeededIds } from '../engine/providers.ts';
import type { ChannelEvent, CommandAck, Switch, SwitchCommand } from '../engine/switch.ts';
import { ExecutionTrace } from '../engine/trace/execution-trace.ts';
import { VirtualClock } from '../engine/virtual-clock.ts';
import { loadScenario } from '../integrations/simulator/load-scenario.ts';
import { engineDepsFor, onVirtualTime } from '../integrations/simulator/run-scenario.ts';
import { SimulatedSwitch } from '../integrations/simulator/simulated-switch.ts';
import { openDatabase } from '../integrations/sqlite/open-database.ts';
import { SqliteTraceSink } from '../integrations/sqlite/sqlite-trace-sink.ts';
import { findExecution, loadExecution } from '../integrations/sqlite/trace-queries.ts';
import { account, callflow, path, tempDir, writeJson, type SimResult } from './support/sim.ts';
import { testRegistry } from './support/test-modules.ts';

/** The simulated switch, with each event it reports passed through `tamper` and extra events injected at set times. */
class TamperedSwitch implements Switch {
  constructor(
    private readonly inner: SimulatedSwitch,
    private readonly clock: VirtualClock,
    private readonly tamper: (e: ChannelEvent) => ChannelEvent,
    private readonly inject: readonly { atMs: number; name: ChannelEvent['name']; headers: Record<string, string> }[],
  ) {}

  execute(uuid: string, applicationUuid: string, command: SwitchCommand): Promise<CommandAck> {
    return this.inner.execute(uuid, applicationUuid, command);
  }

  subscribe(uuid: string, listener: (event: ChannelEvent) => void): () => void {
    const start = this.clock.now();
    for (const i of this.inject) {
      this.clock.setTimeout(() => listener({ name: i.name, uuid, headers: { 'Event-Name': i.name, 'Unique-ID': uuid, ...i.headers } }), start + i.atMs - this.clock.now());
    }
    return this.inner.subscribe(uuid, (e) => listener(this.tamper(e)));
  }
}

/** runScenario (run-scenario.ts) with the switch tampered with; returns what the step log holds. */
async function simulateTampered(opts: {
  flow: unknown;
  scenario?: Record<string, unknown>;
  registry?: ReturnType<typeof testRegistry>;
  tamper?: (e: ChannelEvent) => ChannelEvent;
  inject?: { atMs: number; name: ChannelEvent['name']; headers: Record<string, string> }[];
}): Promise<SimResult> {
  const dir = tempDir();
  writeJson(join(dir, 'account.json'), account([callflow('main', opts.flow, ['100'])]));
  const file = writeJson(join(dir, 'scenario.json'), { name: 'edge', account: 'account.json', call: { from: '200', to: '100' }, ...opts.scenario });
  const registry = opts.registry ?? testRegistry();
  const loaded = loadScenario(file, { registry, validator: new SchemaValidator() });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
  const sc = loaded.value.scenario;
  const db = openDatabase(join(dir, 'trace.db'));
  const clock = new VirtualClock(Date.parse(sc.start_time));
  const ids = new SeededIds(sc.seed);
  const sim = new SimulatedSwitch(clock, ids, sc);
  const sw = new TamperedSwitch(sim, clock, opts.tamper ?? ((e) => e), opts.inject ?? []);
  const channelUuid = sim.originate();
  const deps = engineDepsFor(
    { registry, sink: new SqliteTraceSink(db), wallClock: new FixedClock(1_700_000_000_000), executionIds: new SeededIds(sc.seed + 1_000_000), recordingDir: join(dir, 'recordings') },
    clock,
    ids,
    'simulation',
  );
  const summary = await onVirtualTime(clock, () =>
    executeCall(deps, {
      sw,
      channelUuid,
      account: loaded.value.account.view,
      router: loaded.value.account.router,
      callerNumber: sc.call.from,
      callerName: sc.call.from,
      calleeNumber: sc.call.to ?? '',
      scenario: sc.name,
    }),
  );
  const found = findExecution(db, summary.id);
  if (!found.ok) throw new Error(found.problem);
  return { summary, detail: loadExecution(db, found.execution), db, dir };
}

const probe = (name: string, handle: (call: CallControl) => Promise<unknown>): CallflowModule<Record<string, unknown>> => ({
  name,
  summary: `test probe ${name}`,
  schema: { type: 'object' },
  async handle(_d, call) {
    call.note(JSON.stringify(await handle(call)));
    return next.continue();
  },
});
const notes = (r: SimResult, i = 0) => JSON.parse(r.detail.steps[i]!.notes as string) as string[];

describe('a failed bridge: which header gives the cause', () => {
  const flow = {
    module: 'user',
    data: { id: 'alice', timeout: 5 },
    children: { USER_BUSY: { module: 'test_continue', data: {} }, _: { module: 'test_wait', data: {} } },
  };
  const busy = { devices: { 'alice-desk': { action: 'busy' }, 'alice-soft': { action: 'busy' } }, caller: { hangup_at_s: 60 } };
  /** The bridge's completion with its originate_disposition replaced (or left out). */
  const disposition = (value: string | undefined) => (e: ChannelEvent): ChannelEvent => {
    if (e.name !== 'CHANNEL_EXECUTE_COMPLETE' || e.headers['Application'] !== 'bridge') return e;
    const { variable_originate_disposition: _d, ...headers } = e.headers;
    return { ...e, headers: value === undefined ? headers : { ...headers, variable_originate_disposition: value } };
  };

  it('originate_failed_cause wins over a generic originate_disposition ("failure")', async () => {
    const r = await simulateTampered({ flow, scenario: busy, tamper: disposition('failure') });
    expect(path(r)[0]).toEqual(['user', 'attempt', 'USER_BUSY']);
    expect(r.detail.steps[0]!.requested_key).toBe('USER_BUSY,sip:486');
  });

  it('without originate_failed_cause, the disposition gives the cause', async () => {
    const dropFailedCause = (e: ChannelEvent): ChannelEvent => {
      if (e.name !== 'CHANNEL_EXECUTE_COMPLETE' || e.headers['Application'] !== 'bridge') return e;
      const { variable_originate_failed_cause: _c, ...headers } = e.headers;
      return { ...e, headers: { ...headers, variable_originate_disposition: 'CALL_REJECTED' } };
    };
    const r = await simulateTampered({ flow, scenario: busy, tamper: dropFailedCause });
    expect(r.detail.steps[0]!.requested_key).toBe('CALL_REJECTED,sip:486');
  });
});

describe('keys the switch reports', () => {
  it('a DTMF event whose digit is not one key of 0-9 * # A-D is ignored: it is never collected', async () => {
    const registry = testRegistry().register(
      probe('test_collect', async (call) => {
        await call.answer();
        return call.collectDigits({ maxDigits: 6, timeoutMs: 10_000, interdigitMs: 3000 });
      }),
    );
    const dtmf = (atMs: number, digit: string) => ({ atMs, name: 'DTMF' as const, headers: { 'DTMF-Digit': digit } });
    const r = await simulateTampered({
      flow: { module: 'test_collect', data: {} },
      registry,
      inject: [dtmf(1000, 'X'), dtmf(1100, '1'), dtmf(1200, '12'), dtmf(1300, '?'), dtmf(1400, ''), dtmf(1500, 'D'), dtmf(1600, '*'), dtmf(1700, '%')],
    });
    expect(notes(r)).toEqual(['"1D*"']);
    // Every one of them is still in the step log as an event.
    expect(r.detail.events.filter((e) => e.name === 'DTMF')).toHaveLength(8);
  });
});

describe('a completion without Application-Response', () => {
  it('reads as "_none_" (what FreeSWITCH reports for no response), in the command row and for the module', async () => {
    const registry = testRegistry().register(probe('test_play', async (call) => (await call.answer(), call.playback('hello'))));
    const dropResponse = (e: ChannelEvent): ChannelEvent => {
      if (e.name !== 'CHANNEL_EXECUTE_COMPLETE' || e.headers['Application'] !== 'playback') return e;
      const { 'Application-Response': _r, ...headers } = e.headers;
      return { ...e, headers };
    };
    const r = await simulateTampered({ flow: { module: 'test_play', data: {} }, registry, tamper: dropResponse });
    const playback = r.detail.commands.find((c) => c.app === 'playback')!;
    expect(playback.response).toBe('_none_');
    expect(playback.error_kind).toBeNull();
    expect(notes(r)).toEqual(['{"response":"_none_"}']);
    // Untouched, the same playback reports FILE PLAYED: the default is only for a missing header.
    const plain = await simulateTampered({ flow: { module: 'test_play', data: {} }, registry });
    expect(plain.detail.commands.find((c) => c.app === 'playback')!.response).toBe('FILE PLAYED');
  });
});

describe('a step that has ended', () => {
  it('keeps its ended_at when it is ended again later', () => {
    const clock = new VirtualClock(1000);
    const trace = new ExecutionTrace(clock);
    const row = trace.beginStep({ parentSeq: null, callflowId: 'cf', path: '/flow', module: 'm', data: {} });
    clock.advanceTo(1500);
    trace.endStep(row);
    expect(row.ended_at).toBe(1500);
    expect(trace.currentStep).toBeUndefined();
    clock.advanceTo(9000);
    trace.endStep(row);
    expect(row.ended_at).toBe(1500);
  });
});
