import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { SchemaValidator } from '../../engine/documents/validator.ts';
import { loadAccountBundle } from '../../engine/documents/load.ts';
import { AccountView } from '../../engine/call/account-view.ts';
import { UsageError } from '../../engine/errors.ts';
import { Router } from '../../engine/routing.ts';
import { InboundConnection, startOutboundServer } from '../../integrations/freeswitch/index.ts';
import { legTemplateProblem } from '../../integrations/freeswitch/dial-string.ts';
import { soundTemplateProblem } from '../../integrations/freeswitch/sounds.ts';
import { hostPort } from '../../integrations/live/host-port.ts';
import { liveEngineDeps } from '../../integrations/live/live-deps.ts';
import { LiveEngine } from '../../integrations/live/live-engine.ts';
import { notificationSettings } from '../../integrations/notify/config.ts';
import { startOutboxWorker } from '../../integrations/notify/worker-client.ts';
import { WalWriteback } from '../../integrations/sqlite/wal-writeback.ts';
import { SqliteTraceSink } from '../../integrations/sqlite/sqlite-trace-sink.ts';
import { SqliteVoicemailStore } from '../../integrations/sqlite/voicemail-store.ts';
import { createRegistry } from '../../modules/index.ts';
import { printable } from '../render-trace.ts';
import { dbPath, flagOrEnv, MAX_TIMER_S, mediaDirs, positiveInt, type Command } from '../command.ts';
import { deliverUntil } from '../interrupt.ts';
import { openStepLogToWrite } from '../writable-step-log.ts';

export const serveCommand: Command = {
  name: 'serve',
  usage:
    'callflow serve --account FILE [--listen HOST:PORT] [--esl HOST:PORT] [--esl-password PW] [--no-inbound] [--db FILE] ' +
    '[--recordings DIR] [--leg-template T] [--sound-template T] [--drain-timeout S]',
  summary: "run live calls from FreeSWITCH's outbound sockets through the account's callflows",
  help: `Listens for FreeSWITCH's outbound event sockets (dialplan: socket <host>:<port> async full),
routes each call's destination number to a callflow of the account bundle, and records every
execution in the step log (--db, else $CALLFLOW_DB, else ./callflow.db). One line per call on
stdout when it ends.

  --listen HOST:PORT     where FreeSWITCH connects ($CALLFLOW_LISTEN, default 127.0.0.1:8084; port 0: any free one, printed)
  --esl HOST:PORT        FreeSWITCH's inbound event socket for api work and reconciling calls
                         after a reconnect ($CALLFLOW_ESL, default 127.0.0.1:8021)
  --esl-password PW      its password ($CALLFLOW_ESL_PASSWORD; default ClueCon). Prefer the
                         environment: flags show in the process list.
  --no-inbound           do not connect to the inbound socket
  --recordings DIR       where FreeSWITCH writes recordings (must be a path the switch can write
                         and this process can read; default recordings/ beside the step log)
  --leg-template T       dial string per device ($CALLFLOW_LEG_TEMPLATE; default
                         user/{username}@{realm}, e.g. sofia/internal/{username}@{realm})
  --sound-template T     the file a prompt name is played as, relative to FreeSWITCH's
                         sound_prefix ($CALLFLOW_SOUND_TEMPLATE; default {name}.wav; names
                         starting vm- are looked for under voicemail/), e.g. {name}.mp3
  --drain-timeout S      on SIGTERM/SIGINT: stop taking calls and give the ones in flight this
                         long to finish, post-hangup work included (default 60)

Notifications are delivered as in "simulate" (CALLFLOW_SMTP_URL, TWILIO_*, else files).`,
  options: {
    account: { type: 'string' },
    listen: { type: 'string' },
    esl: { type: 'string' },
    'esl-password': { type: 'string' },
    'no-inbound': { type: 'boolean' },
    db: { type: 'string' },
    recordings: { type: 'string' },
    'leg-template': { type: 'string' },
    'sound-template': { type: 'string' },
    'drain-timeout': { type: 'string' },
  },
  noPositionals: true,
  async run({ values }, io) {
    if (typeof values.account !== 'string') throw new UsageError('serve: --account FILE is required');
    // A bad value is named where it came from: the flag, or the variable the operator set.
    const from = (flag: string, variable: string): string => (flagOrEnv(values[flag], undefined) !== undefined ? `--${flag}` : variable);
    const listen = hostPort(flagOrEnv(values.listen, io.env.CALLFLOW_LISTEN) ?? '127.0.0.1:8084', '127.0.0.1', from('listen', 'CALLFLOW_LISTEN'), { anyPort: true });
    const esl = hostPort(flagOrEnv(values.esl, io.env.CALLFLOW_ESL) ?? '127.0.0.1:8021', '127.0.0.1', from('esl', 'CALLFLOW_ESL'));
    const password = flagOrEnv(values['esl-password'], io.env.CALLFLOW_ESL_PASSWORD) ?? 'ClueCon';
    const legTemplate = flagOrEnv(values['leg-template'], io.env.CALLFLOW_LEG_TEMPLATE);
    const soundTemplate = flagOrEnv(values['sound-template'], io.env.CALLFLOW_SOUND_TEMPLATE);
    const soundProblem = soundTemplate === undefined ? undefined : soundTemplateProblem(soundTemplate);
    if (soundProblem) throw new UsageError(`serve: ${from('sound-template', 'CALLFLOW_SOUND_TEMPLATE')} ${soundProblem} (got "${printable(soundTemplate!)}")`);
    const drainS = positiveInt('drain-timeout', values['drain-timeout'], 60, MAX_TIMER_S);
    const templateProblem = legTemplate === undefined ? undefined : legTemplateProblem(legTemplate);
    if (templateProblem) throw new UsageError(`serve: ${from('leg-template', 'CALLFLOW_LEG_TEMPLATE')} "${printable(legTemplate!)}": ${templateProblem}`);

    const registry = createRegistry();
    const loaded = loadAccountBundle(values.account, { registry, validator: new SchemaValidator() });
    for (const w of loaded.warnings) io.err(`warning: ${w.toString()}`);
    if (!loaded.ok) {
      for (const e of loaded.errors) io.err(e.message);
      return 1;
    }
    const account = new AccountView(loaded.value);
    const router = new Router(loaded.value.callflows);

    const dbFile = dbPath(values, io.env);
    const db = openStepLogToWrite(dbFile);
    const writeback = WalWriteback.start(db);
    const media = mediaDirs(dbFile);
    // stdout carries one line per call (the LiveEngine's info); stderr problems and lifecycle.
    const logger = { info: () => {}, warn: (l: string) => io.err(l) };
    const callLog = { info: (l: string) => io.out(l), warn: (l: string) => io.err(l) };
    const recordingDir = resolve(typeof values.recordings === 'string' ? values.recordings : media.recordings);
    // FreeSWITCH gets the path in a record command: it must be one word (see integrations/freeswitch/render.ts).
    if (/\s/.test(recordingDir)) throw new UsageError(`serve: --recordings must be a path without spaces (got "${recordingDir}")`);
    mkdirSync(recordingDir, { recursive: true });
    const notifications = await startOutboxWorker(db, { dbFile, notifications: notificationSettings(io.env) }, logger);
    let server: Awaited<ReturnType<typeof startOutboundServer>> | undefined;
    let inbound: InboundConnection | undefined;
    let left = 0;
    let signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
    // The first signal drains; a second one (an impatient Ctrl-C, a supervisor's follow-up
    // SIGTERM) closes the calls in flight at once, and they are still recorded, as
    // switch_disconnected, instead of the process dying with their rows left running. Once the
    // calls are done it stops the wait for deliveries, and the sends in flight are still
    // recorded: killed mid-send, a message would be sent again after a restart.
    let force: () => void = () => {};
    let forcedStop = false;
    const forced = new Promise<void>((resolve) => (force = resolve)).then(() => {
      forcedStop = true;
    });
    let waitingFor: 'calls' | 'deliveries' = 'calls';
    try {
      const engine = new LiveEngine(
        liveEngineDeps({
          registry,
          sink: new SqliteTraceSink(db),
          recordingDir,
          logger,
          outbox: notifications.outbox,
          voicemail: new SqliteVoicemailStore(db, media.voicemail),
        }),
        account,
        router,
        callLog,
      );
      server = await startOutboundServer(
        {
          host: listen.host,
          port: listen.port,
          logger,
          ...(legTemplate ? { dial: { legTemplate } } : {}),
          ...(soundTemplate ? { sounds: { template: soundTemplate } } : {}),
        },
        engine.onCall,
      );
      io.err(`serve: listening for FreeSWITCH on ${server.host}:${server.port}; account ${account.id} (${loaded.value.callflows.length} callflows); step log ${dbFile}`);
      if (!values['no-inbound']) {
        inbound = new InboundConnection({ host: esl.host, port: esl.port, password, calls: server, logger });
        inbound.onState((state, why) => io.err(`serve: inbound ${esl.host}:${esl.port} ${state}${why ? `: ${why}` : ''}`));
        inbound.start();
      }

      // A call in flight: handed to the engine, or its socket taken and still in its handshake.
      const inFlight = (): number => engine.inFlight + (server?.handshaking() ?? 0);
      await new Promise<void>((resolveStop) => {
        let stopping = false;
        const onSignal = (signal: NodeJS.Signals): void => {
          if (stopping) {
            io.err(
              waitingFor === 'calls'
                ? `serve: ${signal} again: closing the ${inFlight()} call(s) in flight now`
                : `serve: ${signal} again: no longer waiting for deliveries; recording the sends in flight`,
            );
            force();
            return;
          }
          stopping = true;
          io.err(`serve: ${signal}: taking no new calls; waiting up to ${drainS} s for ${inFlight()} call(s) in flight (again to close them now)`);
          resolveStop();
        };
        signalHandler = onSignal;
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      // Sockets still in their handshake are waited for too: each reaches the engine, which
      // refuses it (NORMAL_TEMPORARY_FAILURE) and records it, instead of being dropped by close.
      left = await engine.drain(drainS * 1000, forced, server);
      if (left > 0) io.err(`serve: ${left} call(s) still in flight${forcedStop ? '' : ` after ${drainS} s`}: closing their sockets`);
      await server.close();
      server = undefined;
      // A closed socket ends its execution as switch_disconnected, post-hangup work included (a
      // call closed in its handshake reaches the engine then, and is refused): let that land.
      if (engine.inFlight > 0 && (await engine.drain(10_000)) > 0) io.err(`serve: ${engine.inFlight} execution(s) did not finish`);
    } finally {
      // Also on a failed start (a busy port): nothing may keep the process alive.
      await server?.close();
      await inbound?.close();
      waitingFor = 'deliveries';
      const delivery = await deliverUntil(notifications.worker, 10_000, forced).catch(() => ({ pending: -1 }));
      if (signalHandler) {
        process.off('SIGTERM', signalHandler);
        process.off('SIGINT', signalHandler);
      }
      if (delivery.pending > 0) io.err(`serve: ${delivery.pending} message(s) still pending in the outbox`);
      await writeback.close();
      db.close();
    }
    io.err('serve: stopped');
    // README: a second signal ends serve with 1, whether it cut the calls or the deliveries short.
    return left > 0 || forcedStop ? 1 : 0;
  },
};

