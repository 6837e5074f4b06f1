import type { Io } from './command.ts';
import { printable } from './render-trace.ts';

export interface ProgressOptions {
  /** What is being counted, e.g. "simulating". */
  readonly label: string;
  readonly total: number;
  /** Not a terminal: print a line every this many items (default: every 10% of the total). */
  readonly every?: number;
  /** Below this many items nothing is shown at all (default 1): a short batch needs no progress. */
  readonly minTotal?: number;
  /** Terminal or not (default io.isTty). */
  readonly tty?: boolean;
  /** Where the terminal bar is drawn (default process.stderr.write): raw text, no newline added. */
  readonly write?: (chunk: string) => void;
  /** Width of the bar between the brackets (default 24). */
  readonly width?: number;
  /** Least time between two redraws of the terminal bar, in ms (default 100). */
  readonly redrawMs?: number;
}

export interface Progress {
  /** `n` more items are done (default 1). */
  tick(n?: number): void;
  /**
   * Prints a line on stderr without tearing the bar: on a terminal the bar is cleared, the line
   * printed and the bar drawn again below it. Use it for warnings printed while work is going on.
   */
  err(line: string): void;
  /** The work is over: the terminal bar is erased (call it before printing results). Idempotent. */
  done(): void;
}

const CLEAR = '\r\x1b[K';

/** "simulating 37/200 [========>               ] 18%" */
export function progressBar(label: string, done: number, total: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.floor(frac * width);
  const bar = filled >= width ? '='.repeat(width) : '='.repeat(filled) + '>' + ' '.repeat(width - filled - 1);
  return `${label} ${done}/${total} [${bar}] ${Math.floor(frac * 100)}%`;
}

/**
 * Progress for long work, on stderr. On a terminal (io.isTty): one line redrawn in place, at
 * most every 100 ms, erased by done(). Otherwise (a pipe, a CI log): a plain line
 * "simulating 20/200 (10%)" every 10% of the total (or every `every` items) and at the end.
 */
export function createProgress(io: Pick<Io, 'err' | 'isTty'>, opts: ProgressOptions): Progress {
  const total = Math.max(0, Math.floor(opts.total));
  const label = printable(opts.label);
  const silent = total < (opts.minTotal ?? 1);
  const tty = opts.tty ?? io.isTty;
  const write = opts.write ?? ((chunk: string) => void process.stderr.write(chunk));
  const every = Math.max(1, Math.floor(opts.every ?? Math.ceil(total / 10)));
  const redrawMs = opts.redrawMs ?? 100;
  let count = 0;
  let lastDraw = -Infinity;
  let shown = false;
  let finished = false;

  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastDraw < redrawMs) return;
    lastDraw = now;
    write(CLEAR + progressBar(label, count, total, opts.width));
    shown = true;
  };

  if (!silent && tty) draw(true);

  return {
    tick(n = 1) {
      if (finished) return;
      const before = count;
      count = Math.min(total, count + n);
      if (silent || count === before) return;
      if (tty) {
        draw(count === total);
        return;
      }
      // A line each time a multiple of `every` is passed, and always at the end.
      if (Math.floor(count / every) > Math.floor(before / every) || count === total) {
        io.err(`${label} ${count}/${total} (${total > 0 ? Math.floor((count / total) * 100) : 100}%)`);
      }
    },
    err(line) {
      if (tty && shown && !finished) {
        write(CLEAR);
        io.err(line);
        draw(true);
        return;
      }
      io.err(line);
    },
    done() {
      if (finished) return;
      finished = true;
      if (tty && shown) write(CLEAR);
    },
  };
}
