import { UnsafeValueError } from './errors.ts';

/**
 * Checks for values that reach FreeSWITCH from callers and documents. Nothing is escaped: a
 * value that could change the meaning of what is sent is refused with a typed error, and the
 * command it belonged to is never sent.
 */

// CR and LF end an ESL header (and a blank line ends the message); NUL ends a C string early.
const FRAME_BREAKERS = /[\r\n\0]/;
// Other control characters have no business in an application argument either.
const CONTROL = /[\x00-\x1f\x7f]/;

/** Anything placed on an ESL command line or header, or in a sendmsg body. */
export function frameSafe(field: string, value: string): string {
  if (FRAME_BREAKERS.test(value)) throw new UnsafeValueError(field, 'contains CR, LF or NUL');
  if (CONTROL.test(value)) throw new UnsafeValueError(field, 'contains a control character');
  return value;
}

/**
 * An application argument: frame-safe, and without `${`, because FreeSWITCH expands channel
 * variables and `${api(args)}` calls in every application's data before running it.
 */
export function appArgSafe(field: string, value: string): string {
  frameSafe(field, value);
  if (value.includes('${')) throw new UnsafeValueError(field, 'contains "${" (FreeSWITCH would expand it)');
  return value;
}

/** One space-separated word of an argument list (a record path): no whitespace either. */
export function wordSafe(field: string, value: string): string {
  appArgSafe(field, value);
  if (value.length === 0) throw new UnsafeValueError(field, 'is empty');
  if (/\s/.test(value)) throw new UnsafeValueError(field, 'contains whitespace');
  return value;
}

// `,` and `|` separate legs, `[]` and `{}` open variable blocks, `<>` and `^^` are FreeSWITCH's
// other variable and delimiter syntaxes, `:_:` separates enterprise originate groups. FreeSWITCH
// splits a dial string with switch_separate_string, which reads `\` as an escape and `'` as a
// quote (a separator after one or between two does not split), so `'`, `"` and `\` could merge
// or reshape legs too.
const DIAL_BREAKERS = /[,|[\]{}<>^\s'"\\]/;

/** A part of a dial string (a username, a realm). `extra` lists characters also refused there. */
export function dialPartSafe(field: string, value: string, extra = ''): string {
  appArgSafe(field, value);
  if (value.length === 0) throw new UnsafeValueError(field, 'is empty');
  const bad = DIAL_BREAKERS.exec(value) ?? (extra ? new RegExp(`[${extra.replace(/[\]\\^-]/g, '\\$&')}]`).exec(value) : null);
  if (bad) throw new UnsafeValueError(field, `contains ${JSON.stringify(bad[0])}, which would change the dial string`);
  if (value.includes(':_:')) throw new UnsafeValueError(field, 'contains ":_:", which would change the dial string');
  return value;
}

// A value in a dial string's `{name=value,...}` block: `,` ends it, `{` `}` nest or close the
// block, `[` `]` are a leg's own block, `|` separates legs, and `'` `"` `\` are
// switch_separate_string's quotes and escape (they would merge or reshape what follows).
const VARIABLE_VALUE_BREAKERS = /[,|[\]{}'"\\]/;

/**
 * The value of an originate variable placed in a dial string (`{sip_h_X-Name=value}`): frame-safe,
 * no `${`, none of the characters above, no `:_:`, not empty, and no space at either end
 * (FreeSWITCH trims those, so what is sent would not be what was asked).
 */
export function dialVariableValueSafe(field: string, value: string): string {
  if (typeof value !== 'string') throw new UnsafeValueError(field, `${JSON.stringify(value)} is not a string`);
  appArgSafe(field, value);
  if (value.length === 0) throw new UnsafeValueError(field, 'is empty');
  const bad = VARIABLE_VALUE_BREAKERS.exec(value);
  if (bad) throw new UnsafeValueError(field, `contains ${JSON.stringify(bad[0])}, which would change the dial string`);
  if (value.includes(':_:')) throw new UnsafeValueError(field, 'contains ":_:", which would change the dial string');
  if (/^\s|\s$/.test(value)) throw new UnsafeValueError(field, 'starts or ends with a space, which FreeSWITCH would drop');
  return value;
}

/** A SIP header name for a `sip_h_<Name>` variable: a token of letters, digits and '-'. */
export function sipHeaderNameSafe(field: string, value: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]+$/.test(value)) {
    throw new UnsafeValueError(field, `${JSON.stringify(String(value).slice(0, 40))} is not a SIP header name (letters, digits and "-")`);
  }
  return value;
}

/** A channel variable name as FreeSWITCH's `set` reads it (`name=value`). */
export function variableNameSafe(field: string, value: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(value)) throw new UnsafeValueError(field, `${JSON.stringify(value.slice(0, 40))} is not a variable name`);
  return value;
}

/**
 * A number FreeSWITCH reads as a whole number (seconds, milliseconds, thresholds): finite and
 * within bounds, rounded (the switch would truncate `2.5` to 2 without a word).
 */
export function intSafe(field: string, value: number, min = 0, max = 86_400_000): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new UnsafeValueError(field, `${String(value)} is not a number in ${min}..${max}`);
  }
  return Math.round(value);
}

/** Event-UUIDs and channel uuids: what FreeSWITCH generates, nothing that could carry syntax. */
export function idSafe(field: string, value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(value)) throw new UnsafeValueError(field, `${JSON.stringify(value.slice(0, 40))} is not an id`);
  return value;
}
