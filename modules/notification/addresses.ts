/**
 * One plain address, nothing that can break a header: the rule the sender applies, and the one
 * document schemas check addresses with (so `validate` catches what sending would drop).
 */
const SAFE_EMAIL_PATTERN = '^[^\\s@<>()[\\]\\\\,;:"\\u0000-\\u001f\\u007f]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$';
const SAFE_EMAIL_MAX_LENGTH = 254;
const SAFE_EMAIL = new RegExp(SAFE_EMAIL_PATTERN, 'u');

/** The JSON schema of one such address. */
export const SAFE_EMAIL_SCHEMA = {
  type: 'string',
  pattern: SAFE_EMAIL_PATTERN,
  maxLength: SAFE_EMAIL_MAX_LENGTH,
  patternHint: 'one plain email address (name@example.com)',
} as const;

/** What may stand in an envelope or an address header. */
export function isSafeEmail(s: string): boolean {
  return s.length <= SAFE_EMAIL_MAX_LENGTH && SAFE_EMAIL.test(s);
}

export const isE164 = (s: string): boolean => /^\+[1-9][0-9]{1,14}$/.test(s);

export function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** Header text may never carry a line break (header injection) or other control characters. */
export const headerText = (s: string): string => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
