import type { AccountView } from '../../engine/call/account-view.ts';
import type { FinalCallState } from '../../engine/call/call-control.ts';
import type { NotificationData } from './schema.ts';

/** KAZOO's timestamps are Gregorian seconds: Unix seconds plus this. */
const GREGORIAN_OFFSET_S = 62_167_219_200;

// Building an Intl.DateTimeFormat costs far more than using one: one per time zone, kept.
const formats = new Map<string, Intl.DateTimeFormat>();
function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formats.set(timeZone, f);
  }
  return f;
}

const BUCKET_MS = 15 * 60_000;
/**
 * A zone's UTC offset and abbreviation, asked of Intl once per 15 minutes of time: offsets
 * change (DST) on such boundaries, and formatToParts is the slow part of a notification.
 */
const zoneAt = new Map<string, { offsetMs: number; abbr: string }>();
function zone(ms: number, timeZone: string): { offsetMs: number; abbr: string } {
  const bucket = Math.floor(ms / BUCKET_MS) * BUCKET_MS;
  const key = `${timeZone}|${bucket}`;
  let z = zoneAt.get(key);
  if (!z) {
    const parts = formatFor(timeZone).formatToParts(new Date(bucket));
    const p = (t: string): number => Number(parts.find((x) => x.type === t)?.value ?? 0);
    const local = Date.UTC(p('year'), p('month') - 1, p('day'), p('hour'), p('minute'), p('second'));
    z = { offsetMs: local - bucket, abbr: parts.find((x) => x.type === 'timeZoneName')?.value ?? timeZone };
    if (zoneAt.size > 10_000) zoneAt.clear();
    zoneAt.set(key, z);
  }
  return z;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** "00:01:05": a duration as teletype's macros show it (voicemail.length). */
export function hoursMinutesSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${two(Math.floor(s / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** "2026-01-05 09:00:00 EST": the moment in the zone, to the second. */
export function dateParts(ms: number, timeZone: string): string {
  const z = timeZone === 'UTC' ? { offsetMs: 0, abbr: 'UTC' } : zone(ms, timeZone);
  const d = new Date(Math.floor(ms / 1000) * 1000 + z.offsetMs);
  return (
    `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${z.abbr}`
  );
}

/** KAZOO's caller_id macro: "Name(Number)", or just one when they are equal; "unknown" parts dropped. */
export function callerId(name: string, number: string): { name: string; number: string; name_number: string } {
  const n = /^unknown$/i.test(name) ? '' : name;
  const num = /^unknown$/i.test(number) ? '' : number;
  const nameNumber = n && num ? (n === num ? num : `${n}(${num})`) : n || num;
  return { name: n, number: num, name_number: nameNumber };
}

/**
 * The values a template sees, shaped as teletype's cf_notification macros (`call.*`,
 * `caller_id.*`, `date_called.*`, `from`, `to`, `account.*`, `comments`), plus `hangup.*` and
 * a few call facts KAZOO does not pass (who hung up, duration, answered).
 */
export function buildMacros(
  state: FinalCallState,
  account: AccountView,
  data: NotificationData,
  callflowTo: string[] | undefined,
  sentAt: number,
): Record<string, unknown> {
  const { info } = state;
  const hangup = state.hangup;
  const notify = hangup ? { disposition: hangup.disposition ?? '', hangup_cause: hangup.cause, hangup_code: hangup.code } : undefined;
  const tz = account.timezone;
  return {
    account: { id: account.id, name: account.bundle.account.name, realm: account.realm, timezone: tz, language: 'en-us' },
    call: {
      account_id: account.id,
      template_id: data.template_id ?? '',
      call_id: info.callId,
      caller_id_name: info.callerName,
      caller_id_number: info.callerNumber,
      from_user: info.callerNumber,
      from_realm: account.realm,
      to_user: info.calleeNumber,
      to_realm: account.realm,
      call_bridged: state.callBridged,
      message_left: state.messageLeft,
      answered: state.answered,
      timestamp: Math.floor(sentAt / 1000) + GREGORIAN_OFFSET_S,
      comments: data.comments ?? '',
      notification_media: data.notification_media ?? ['email'],
      to: callflowTo ?? [],
      ...(notify ? { notify } : {}),
      hangup_by: state.hangupBy ?? '',
      duration_seconds: Math.round(state.durationMs / 1000),
    },
    caller_id: callerId(info.callerName, info.callerNumber),
    date_called: {
      utc: dateParts(state.startedAt, 'UTC'),
      local: dateParts(state.startedAt, tz),
      timestamp: Math.floor(state.startedAt / 1000) + GREGORIAN_OFFSET_S,
      timezone: tz,
    },
    from: { user: info.callerNumber, realm: account.realm },
    to: { user: info.calleeNumber, realm: account.realm },
    call_id: info.callId,
    comments: data.comments ?? '',
    hangup: hangup ? { cause: hangup.cause, code: hangup.code, disposition: hangup.disposition ?? '', by: state.hangupBy ?? '' } : {},
  };
}
