/**
 * FreeSWITCH's `switch_url_encode` and `switch_url_decode`, byte for byte.
 *
 * The encoder works on the UTF-8 bytes: CR, LF, space, `"#%&+:;<=>?@[\]^`{|}` and every byte
 * outside 0x20..0x7E become `%XX` (upper-case hex). A `%` already followed by two upper-case
 * hex digits is left alone (FreeSWITCH does not double-encode), which is why decoding is lossy.
 */

const UNSAFE = new Set(Array.from('\r\n "#%&+:;<=>?@[\\]^`{|}', (c) => c.charCodeAt(0)));
const HEX = '0123456789ABCDEF';
const isUpperHex = (b: number | undefined): boolean => b !== undefined && HEX.includes(String.fromCharCode(b));

export function urlEncode(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    // `e - p > 1` in the C code: two more bytes must follow for an existing escape to be kept.
    const keptEscape = b === 0x25 && i + 2 < bytes.length && isUpperHex(bytes[i + 1]) && isUpperHex(bytes[i + 2]);
    if (!keptEscape && (b < 0x20 || b > 0x7e || UNSAFE.has(b))) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

/** `%XX` (either case) becomes the byte; anything else, `+` included, stays. Bytes are read as UTF-8. */
export function urlDecode(value: string): string {
  if (!value.includes('%')) return value;
  const src = Buffer.from(value, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const hex = src.toString('latin1', i + 1, i + 3);
    if (src[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else out[n++] = src[i]!;
  }
  return out.toString('utf8', 0, n);
}
