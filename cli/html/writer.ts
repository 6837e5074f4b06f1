/**
 * Collects the page as UTF-8 in one growing buffer. A page for a big call is tens of megabytes
 * in some hundred thousand pieces; kept as strings until the end, every piece would survive the
 * young generation and be copied by the garbage collector. Written here, each piece dies young.
 */
export class PageWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  push(...parts: string[]): void {
    for (const s of parts) {
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      const need = this.len + s.length * 3;
      if (need > this.buf.length) {
        const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
        this.buf.copy(next, 0, 0, this.len);
        this.buf = next;
      }
      this.len += this.buf.write(s, this.len, 'utf8');
    }
  }

  get byteLength(): number {
    return this.len;
  }

  toString(): string {
    return this.buf.toString('utf8', 0, this.len);
  }
}
