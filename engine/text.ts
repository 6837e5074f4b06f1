/**
 * Masks control characters (and bidirectional overrides) so a value from a caller or a remote
 * server cannot repaint the terminal or reorder what it shows.
 */
export const printable = (v: unknown): string => String(v ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');

/** The same, line by line: for multi-line text such as a rendered template. */
export const printableLines = (text: string): string => text.split('\n').map(printable).join('\n');
