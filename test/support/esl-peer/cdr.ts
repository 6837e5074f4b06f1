import { q850 } from './causes.ts';
import { eventDates } from './event-headers.ts';
import type { FsChannel } from './fs-channel.ts';

/**
 * The variables FreeSWITCH adds when it reports a call (CHANNEL_HANGUP_COMPLETE): cause,
 * stamps, epochs, durations, last application. `model` carries what the simulator decided
 * (duration, billsec, SIP disposition), so both sides agree on the numbers.
 */
export function cdrVariables(ch: FsChannel, lastApp: { readonly name: string; readonly arg: string } | null, model: Readonly<Record<string, string>>): [string, string][] {
  const cause = ch.hangupCause ?? 'NORMAL_CLEARING';
  const start = ch.id.createdUs;
  const end = ch.hangupUs;
  const answered = ch.answeredUs;
  const secs = (us: number): string => String(Math.floor(us / 1e6));
  const out: [string, string][] = [
    ['hangup_cause', cause],
    ['hangup_cause_q850', String(q850(cause))],
  ];
  if (model.variable_sip_hangup_disposition) out.push(['sip_hangup_disposition', model.variable_sip_hangup_disposition]);
  if (model.variable_proto_specific_hangup_cause) out.push(['proto_specific_hangup_cause', model.variable_proto_specific_hangup_cause]);
  out.push(['start_stamp', eventDates(start / 1000).local]);
  if (answered) out.push(['answer_stamp', eventDates(answered / 1000).local]);
  out.push(
    ['end_stamp', eventDates(end / 1000).local],
    ['start_epoch', secs(start)],
    ['start_uepoch', String(start)],
    ['answer_epoch', secs(answered)],
    ['answer_uepoch', String(answered)],
    ['end_epoch', secs(end)],
    ['end_uepoch', String(end)],
  );
  if (lastApp) {
    out.push(['last_app', lastApp.name]);
    if (lastApp.arg !== '') out.push(['last_arg', lastApp.arg]);
  }
  const waited = answered ? answered - start : 0;
  const billed = answered ? end - answered : 0;
  out.push(
    ['caller_id', `"${ch.id.callerName}" <${ch.id.callerNumber}>`],
    ['duration', model.variable_duration ?? secs(end - start)],
    ['billsec', model.variable_billsec ?? secs(billed)],
    ['progresssec', '0'],
    ['answersec', secs(waited)],
    ['waitsec', secs(waited)],
    ['mduration', String(Math.round((end - start) / 1000))],
    ['billmsec', String(Math.round(billed / 1000))],
    ['uduration', String(end - start)],
    ['billusec', String(billed)],
  );
  return out;
}
