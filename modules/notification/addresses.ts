/** What may stand in an envelope or an address header: one plain address, nothing that can break a header. */
export function isSafeEmail(s: string): boolean {
  if (s.length > 254 || s.split('@').length !== 2) return false;
  return /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(s);
}

export const isE164 = (s: string): boolean => /^\+[1-9][0-9]{1,14}$/.test(s);

export function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** Header text may never carry a line break (header injection) or other control characters. */
export const headerText = (s: string): string => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
