/** RFC 6901 JSON pointers: how every error names its place in a document. */
const escape = (s: string): string => (s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s);

export function pointer(...segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += '/' + escape(String(s));
  return out;
}

export function joinPointer(base: string, ...segments: readonly (string | number)[]): string {
  return base + pointer(...segments);
}
