import { HANGUP_CAUSES, type SwitchCommand } from '../../engine/switch.ts';
import { renderDialString, type DialStringOptions } from './dial-string.ts';
import { UnsafeValueError } from './errors.ts';
import { appArgSafe, frameSafe, idSafe, intSafe, variableNameSafe, wordSafe } from './safe-values.ts';
import { soundFile, type SoundOptions } from './sounds.ts';

export interface RenderOptions {
  readonly dial?: DialStringOptions;
  readonly sounds?: SoundOptions;
}

/**
 * One `sendmsg` to the controlled channel. `internal` ones are the driver's own (a variable the
 * rendering needs set first): their events never reach the engine and their replies are not
 * the command's acknowledgement unless they fail.
 */
export type Sendmsg =
  | { readonly callCommand: 'execute'; readonly app: string; readonly arg: string | null; readonly eventUuid: string; readonly internal: boolean }
  | { readonly callCommand: 'hangup'; readonly cause: string; readonly internal: false };

/** What a channel's rendering remembers between commands. */
export interface RenderState {
  /** continue_on_fail and hangup_after_bridge were set on this channel already. */
  bridgeVariablesSet: boolean;
}

const TERMINATORS = /^[0-9*#A-D]*$/;

function terminatorsValue(t: string | undefined): string {
  if (t === undefined || t === '') return 'none';
  if (!TERMINATORS.test(t)) throw new UnsafeValueError('terminators', `${JSON.stringify(t.slice(0, 20))} is not a set of DTMF digits`);
  return t;
}

/**
 * A SwitchCommand as the sendmsgs FreeSWITCH needs, in order. Throws UnsafeValueError (nothing
 * is sent then) when a value could break the frame, the dial string or variable expansion.
 * `internalId` names the driver's own applications.
 */
export function renderCommand(
  command: SwitchCommand,
  applicationUuid: string,
  state: RenderState,
  internalId: () => string,
  options: RenderOptions = {},
): Sendmsg[] {
  const eventUuid = idSafe('Application-UUID', applicationUuid);
  const exec = (app: string, arg: string | null): Sendmsg => ({ callCommand: 'execute', app, arg, eventUuid, internal: false });
  const internalSet = (assignment: string): Sendmsg => ({ callCommand: 'execute', app: 'set', arg: assignment, eventUuid: internalId(), internal: true });
  switch (command.app) {
    case 'answer':
      return [exec('answer', null)];
    case 'set':
      return [exec('set', `${variableNameSafe('set name', command.name)}=${appArgSafe('set value', command.value)}`)];
    case 'sleep':
      return [exec('sleep', String(intSafe('sleep ms', command.ms)))];
    case 'playback':
      // FreeSWITCH's playback reads its terminators from this channel variable (default `*`).
      return [internalSet(`playback_terminators=${terminatorsValue(command.terminators)}`), exec('playback', soundFile(command.file, options.sounds))];
    case 'say':
      // KAZOO's say_command: language, type, method, text (ecallmgr's `say` arguments).
      return [
        internalSet(`playback_terminators=${terminatorsValue(command.terminators)}`),
        exec('say', `en name_spelled pronounced ${wordSafe('say text', command.text)}`),
      ];
    case 'record': {
      const args = [wordSafe('record path', command.path), String(intSafe('record limit', command.limitSeconds, 0, 86_400))];
      if (command.silenceThreshold !== undefined) {
        args.push(String(intSafe('record silence threshold', command.silenceThreshold, 0, 100_000)));
        if (command.silenceHits !== undefined) args.push(String(intSafe('record silence hits', command.silenceHits, 0, 86_400)));
      }
      return [internalSet(`playback_terminators=${terminatorsValue(command.terminators)}`), exec('record', args.join(' '))];
    }
    case 'bridge': {
      const dial = renderDialString(command, options.dial);
      const out: Sendmsg[] = [];
      if (!state.bridgeVariablesSet) {
        // Failures must come back to the callflow (not hang the caller up), and so must the end
        // of an answered bridge: the engine decides what happens next, as KAZOO does.
        out.push(internalSet('continue_on_fail=true'), internalSet('hangup_after_bridge=false'));
        state.bridgeVariablesSet = true;
      }
      out.push(exec('bridge', dial));
      return out;
    }
    case 'hangup':
      if (!(HANGUP_CAUSES as readonly string[]).includes(command.cause)) throw new UnsafeValueError('hangup cause', `${JSON.stringify(String(command.cause).slice(0, 40))} is not a hangup cause`);
      return [{ callCommand: 'hangup', cause: command.cause, internal: false }];
    default: {
      const unknown: { app: string } = command;
      throw new UnsafeValueError('app', `${JSON.stringify(unknown.app)} is not a command this driver knows`);
    }
  }
}

/**
 * The bytes of one sendmsg. The argument goes in a `text/plain` body with its byte length, not
 * in an `execute-app-arg` header, so no value can end a header. `uuid` null sends to the
 * socket's own channel (outbound mode), which survives a uuid change.
 */
export function sendmsgFrame(m: Sendmsg, uuid: string | null): string {
  const head = uuid === null ? 'sendmsg' : `sendmsg ${idSafe('channel uuid', uuid)}`;
  if (m.callCommand === 'hangup') return `${head}\ncall-command: hangup\nhangup-cause: ${m.cause}\n\n`;
  const lines = [head, 'call-command: execute', `execute-app-name: ${frameSafe('app', m.app)}`, `Event-UUID: ${idSafe('Event-UUID', m.eventUuid)}`];
  if (m.arg === null) return `${lines.join('\n')}\n\n`;
  const body = frameSafe(`${m.app} argument`, m.arg);
  lines.push('Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(body, 'utf8')}`);
  return `${lines.join('\n')}\n\n${body}`;
}

/** An ESL command line (`myevents json`, `linger 10`, `api status`...), refused if it could carry a second command. */
export function commandFrame(line: string, headers: Readonly<Record<string, string>> = {}): string {
  let out = frameSafe('command', line);
  for (const [k, v] of Object.entries(headers)) out += `\n${frameSafe('header name', k)}: ${frameSafe(k, v)}`;
  return `${out}\n\n`;
}
