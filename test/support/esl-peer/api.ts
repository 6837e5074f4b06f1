import { causeName } from './causes.ts';
import { eventDates, type HostIdentity } from './event-headers.ts';
import type { FsChannel } from './fs-channel.ts';

/**
 * The API commands the peer answers (`api` and `bgapi`), with mod_commands' output formats.
 * Texts of status/version/uuid_exists/uuid_kill/show come from the recorded inbound-api.txt;
 * show's rows follow mod_commands.c (the channels table's columns, `\n<N> total.\n`).
 */

export interface ApiHost {
  readonly host: HostIdentity;
  readonly nowMs: number;
  readonly startedMs: number;
  readonly sessionsSinceStartup: number;
  /** Channels that exist for FreeSWITCH (created, not yet destroyed), oldest first. */
  channels(): readonly FsChannel[];
  kill(uuid: string, cause: string): void;
}

export const VERSION = 'FreeSWITCH Version 1.11.1-release+git~20260526T204126Z~c2c59645f6~64bit (git c2c5964 2026-05-26 20:41:26Z 64bit)\n';

/** The output, or null when FreeSWITCH has no such API (the caller answers `-ERR <cmd> Command not found!\n`). */
export function runApi(api: ApiHost, command: string, arg: string): string | null {
  const find = (uuid: string): FsChannel | undefined => api.channels().find((c) => c.uuid === uuid);
  const [first = '', second = '', ...more] = arg.split(' ');
  switch (command) {
    case 'status':
      return status(api);
    case 'version':
      return VERSION;
    case 'hostname':
      return api.host.hostname;
    case 'echo':
      return arg;
    case 'global_getvar':
      return globals(api)[first] ?? '';
    case 'eval':
      // As the recording shows: `${domain} ${switchname}` gives "127.0.0.1 " (switchname is no global).
      return arg.replace(/\$\{([^}]*)\}/g, (_, name: string) => globals(api)[name] ?? '');
    case 'sofia':
      return first === 'status' ? sofiaStatus() : `-ERR the test ESL peer answers "sofia status" only\n`;
    case 'uuid_exists':
      return find(first) ? 'true' : 'false';
    case 'uuid_kill': {
      if (!find(first)) return '-ERR No such channel!\n';
      api.kill(first, causeName(second === '' ? undefined : second));
      return '+OK\n';
    }
    case 'uuid_getvar': {
      const ch = find(first);
      if (!ch) return '-ERR No such channel!\n';
      return ch.vars.get(second) ?? '_undef_';
    }
    case 'show':
      return show(api, [first, second, ...more]);
    default:
      return null;
  }
}

/** The recorded switch's configuration: its domain and its one SIP profile were on loopback. */
const RECORDED_DOMAIN = '127.0.0.1';

/** The global variables the peer knows (as `eval` showed them on the recorded switch). */
function globals(_api: ApiHost): Readonly<Record<string, string>> {
  return { domain: RECORDED_DOMAIN };
}

/** mod_sofia's `sofia status` for the recorded switch's one profile, as inbound-api.txt shows it. */
function sofiaStatus(): string {
  const rule = '='.repeat(97);
  const row = (name: string, type: string, data: string, state: string): string =>
    `${name.padStart(25)}\t${type.padStart(7)}\t${data.padStart(42)}\t${state}`;
  return [row('Name', 'Type', 'Data', 'State'), rule, row('test', 'profile', `sip:mod_sofia@${RECORDED_DOMAIN}:5080`, 'RUNNING (0)'), rule, '1 profile 0 aliases', ''].join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function status(api: ApiHost): string {
  let ms = Math.max(0, api.nowMs - api.startedMs);
  const part = (size: number): number => {
    const v = Math.floor(ms / size);
    ms -= v * size;
    return v;
  };
  const [y, d, h, m, s] = [part(365 * 86_400_000), part(86_400_000), part(3_600_000), part(60_000), part(1000)];
  const live = api.channels().length;
  return (
    `UP ${plural(y, 'year')}, ${plural(d, 'day')}, ${plural(h, 'hour')}, ${plural(m, 'minute')}, ${plural(s, 'second')}, ${plural(ms, 'millisecond')}, 0 microseconds\n` +
    'FreeSWITCH (Version 1.11.1-release git c2c5964 2026-05-26 20:41:26Z 64bit) is ready\n' +
    `${api.sessionsSinceStartup} session(s) since startup\n` +
    `${live} session(s) - peak ${live}, last 5min ${live} \n` +
    '0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n' +
    '100 session(s) max\n' +
    'min idle cpu 0.00/99.00\n' +
    'Current Stack Size/Max 240K/8192K\n'
  );
}

/** The `channels` table's columns (switch_core_sqldb.c), in order. */
const COLUMNS = [
  'uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest',
  'application', 'application_data', 'dialplan', 'context', 'read_codec', 'read_rate', 'read_bit_rate',
  'write_codec', 'write_rate', 'write_bit_rate', 'secure', 'hostname', 'presence_id', 'presence_data',
  'accountcode', 'callstate', 'callee_name', 'callee_num', 'callee_direction', 'call_uuid', 'sent_callee_name',
  'sent_callee_num', 'initial_cid_name', 'initial_cid_num', 'initial_ip_addr', 'initial_dest',
  'initial_dialplan', 'initial_context',
] as const;

function row(api: ApiHost, c: FsChannel): string[] {
  const createdMs = c.id.createdUs / 1000;
  const values: Record<(typeof COLUMNS)[number], string> = {
    uuid: c.uuid,
    direction: 'inbound',
    created: eventDates(createdMs).local,
    created_epoch: String(Math.floor(createdMs / 1000)),
    name: c.name,
    state: c.running,
    cid_name: c.id.callerName,
    cid_num: c.id.callerNumber,
    ip_addr: '192.0.2.10',
    dest: c.id.destination,
    application: c.vars.get('current_application') ?? '',
    application_data: c.vars.get('current_application_data') ?? '',
    dialplan: 'XML',
    context: 'default',
    read_codec: 'PCMU',
    read_rate: '8000',
    read_bit_rate: '64000',
    write_codec: 'PCMU',
    write_rate: '8000',
    write_bit_rate: '64000',
    secure: '',
    hostname: api.host.hostname,
    presence_id: '',
    presence_data: '',
    accountcode: '',
    callstate: c.callState,
    callee_name: '',
    callee_num: '',
    callee_direction: '',
    call_uuid: c.uuid,
    sent_callee_name: '',
    sent_callee_num: '',
    initial_cid_name: c.id.callerName,
    initial_cid_num: c.id.callerNumber,
    initial_ip_addr: '192.0.2.10',
    initial_dest: c.id.destination,
    initial_dialplan: 'XML',
    initial_context: 'default',
  };
  return COLUMNS.map((k) => values[k]);
}

/** `show channels`, `show channels count`, `show channels as json` (also `calls`, which the peer counts as channels). */
function show(api: ApiHost, args: readonly string[]): string {
  const [what = '', second = '', third = '', fourth = ''] = args;
  if (what !== 'channels' && what !== 'calls') return `-USAGE: ${'codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits'}\n`;
  const rows = api.channels().map((c) => row(api, c));
  const justCount = second === 'count';
  const as = justCount ? (third === 'as' ? fourth : '') : second === 'as' ? third : '';
  if (as === 'json') {
    if (justCount || rows.length === 0) return `{"row_count": ${rows.length}}\n`;
    const objects = rows.map((r) => `{${COLUMNS.map((k, i) => `${JSON.stringify(k)}:${JSON.stringify(r[i])}`).join(',')}}`);
    return `{"row_count":${rows.length},"rows":[${objects.join(',')}]}`;
  }
  if (justCount || rows.length === 0) return `\n${rows.length} total.\n`;
  return `${COLUMNS.join(',')}\n${rows.map((r) => `${r.join(',')}\n`).join('')}\n${rows.length} total.\n`;
}
