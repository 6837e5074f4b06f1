import type { BridgeEndpoint, SwitchCommand } from '../../engine/switch.ts';
import { UnsafeValueError } from './errors.ts';
import { dialPartSafe, dialVariableValueSafe, frameSafe, intSafe, sipHeaderNameSafe } from './safe-values.ts';

export type BridgeCommand = Extract<SwitchCommand, { app: 'bridge' }>;

export interface DialStringOptions {
  /**
   * How one endpoint becomes a FreeSWITCH endpoint string. Placeholders: `{username}`, `{realm}`,
   * `{deviceId}`, `{ownerId}`. Default `user/{username}@{realm}` (mod_dptools' user endpoint,
   * resolved through the directory); a registrar-less setup might use
   * `sofia/internal/{username}%{realm}`.
   */
  readonly legTemplate?: string;
}

export const DEFAULT_LEG_TEMPLATE = 'user/{username}@{realm}';

const PLACEHOLDER = /\{(username|realm|deviceId|ownerId)\}/g;

/** One endpoint through the template; every value is checked before it is placed. */
export function renderLeg(e: BridgeEndpoint, template: string): string {
  const value = (name: string): string => {
    switch (name) {
      case 'username':
        return dialPartSafe('bridge endpoint username', e.username, '@/');
      case 'realm':
        return dialPartSafe('bridge endpoint realm', e.realm, '@/');
      case 'deviceId':
        return dialPartSafe('bridge endpoint deviceId', e.deviceId, '@/');
      default:
        if (e.ownerId === undefined) throw new UnsafeValueError('bridge endpoint ownerId', 'is missing but the leg template uses it');
        return dialPartSafe('bridge endpoint ownerId', e.ownerId, '@/');
    }
  };
  return template.replace(PLACEHOLDER, (_m, name: string) => value(name));
}

/**
 * The `bridge` argument for a BridgeCommand:
 * `{ignore_early_media=B[,originate_timeout=N][,fail_on_single_reject=true][,sip_h_Name=V...]}[leg_timeout=N,leg_delay_start=N]LEG,...`.
 * `,` rings legs at once (simultaneous), `|` tries them one after another (single). A zero
 * timeout leaves the switch's default (60 s) in force, like KAZOO's timeout 0.
 */
export function renderDialString(cmd: BridgeCommand, options: DialStringOptions = {}): string {
  const template = frameSafe('leg template', options.legTemplate ?? DEFAULT_LEG_TEMPLATE);
  // Checked at startup by `callflow serve`; again here for a template set through the library.
  const problem = legTemplateProblem(template);
  if (problem) throw new UnsafeValueError('leg template', problem);
  if (cmd.endpoints.length === 0) throw new UnsafeValueError('bridge endpoints', 'there is no endpoint to bridge to');
  const globals = [`ignore_early_media=${cmd.ignoreEarlyMedia ? 'true' : 'false'}`];
  const timeout = intSafe('bridge timeout', cmd.timeoutSeconds, 0, 86_400);
  if (timeout > 0) globals.push(`originate_timeout=${timeout}`);
  if (cmd.failOnSingleReject) globals.push('fail_on_single_reject=true');
  for (const [name, value] of Object.entries(cmd.customSipHeaders ?? {})) {
    const header = sipHeaderNameSafe('custom SIP header name', name);
    globals.push(`sip_h_${header}=${dialVariableValueSafe(`custom SIP header ${header}`, value)}`);
  }
  const legs = cmd.endpoints.map((e) => {
    const vars: string[] = [];
    const legTimeout = intSafe('bridge endpoint timeout', e.timeoutSeconds, 0, 86_400);
    const delay = intSafe('bridge endpoint delay', e.delaySeconds, 0, 86_400);
    if (legTimeout > 0) vars.push(`leg_timeout=${legTimeout}`);
    if (delay > 0) vars.push(`leg_delay_start=${delay}`);
    return `${vars.length > 0 ? `[${vars.join(',')}]` : ''}${renderLeg(e, template)}`;
  });
  return `{${globals.join(',')}}${legs.join(cmd.strategy === 'single' ? '|' : ',')}`;
}

/**
 * Why a leg template cannot work, or undefined: checked once at startup, so a bad setting is one
 * line then and not a failed bridge on every call. Outside its placeholders a template may not
 * hold what separates or decorates legs in a dial string (`, | [ ] { } ^`), FreeSWITCH's quotes
 * and escape (`' " \`, which stop a separator from splitting), whitespace or control characters,
 * and it must name the device (`{username}` or `{deviceId}`).
 */
export function legTemplateProblem(template: string): string | undefined {
  const rest = template.replace(PLACEHOLDER, '');
  if (/\{|\}/.test(rest)) return 'only {username}, {realm}, {deviceId} and {ownerId} may stand in braces';
  if (/[,|[\]^\s\u0000-\u001f\u007f]/.test(rest)) return 'it may not contain , | [ ] ^, spaces or control characters';
  if (/['"\\]/.test(rest)) return `it may not contain ' " or \\ (FreeSWITCH's dial-string quotes and escape)`;
  if (!/\{(username|deviceId)\}/.test(template)) return 'it must contain {username} or {deviceId}';
  return undefined;
}
