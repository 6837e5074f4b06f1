/**
 * Why a regular expression could stall the process on a long dialled number, or undefined.
 * JavaScript's backtracking engine tries every way to cut a number that almost matches among the
 * pattern's variable-length pieces: a group of variable length repeated without bound
 * (`(\d+)+`, `(\d{2,5})+`) takes exponential time, and n pieces in all take time like
 * length^n: `((\d+){3}){3}` is 9 of them, `(\d+){3}(\d+){3}` 6, and either takes seconds on a
 * 30 to 60 digit number. So this refuses a variable-length group repeated more than 3 times in
 * all (nested quantifiers multiply), and more than 4 variable-length pieces in all, each counted
 * as often as it can repeat. A purely syntactic check, read as JavaScript reads a pattern: it
 * also refuses the rare harmless form whose repetitions cannot overlap (`(\d+,)+`), which can
 * always be written without the nesting. Alternatives of different lengths
 * make a group variable (`(1|11)+` is `(1{1,2})+`); alternatives of one length (`(\d|\*|#)+`,
 * common in dial patterns) do not.
 */
export function stallRisk(source: string): string | undefined {
  // Per open group (the first is the whole pattern): whether it matches a variable length; the
  // most times a variable-length group inside it repeats (`reps`); its variable-length pieces,
  // weighted by their repetitions (`pieces`); whether it is a lookaround, which is zero-width
  // and never backtracked into, so what it holds costs nothing outside it.
  // `len` is the fixed length of the alternative being read, `last` that of its last atom (for a
  // `{n}` after it), `alts` the lengths of the alternatives already read.
  // `alternates`: the group is of variable length by its alternatives alone (counted as a piece).
  type Frame = { variable: boolean; reps: number; pieces: number; lookaround: boolean; len: number; last: number; alts: number[]; alternates: boolean };
  const frame = (lookaround: boolean): Frame => ({ variable: false, reps: 0, pieces: 0, lookaround, len: 0, last: 0, alts: [], alternates: false });
  const open: Frame[] = [frame(false)];
  const atom = (f: Frame, n: number): void => {
    f.len += n;
    f.last = n;
  };
  // The group just closed, while a quantifier may still follow it.
  let group: Frame | undefined;
  // Whether the last thing read was a quantifier (a `?` after one makes it lazy, nothing more).
  let afterQuantifier = false;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const top = open[open.length - 1]!;
    if (c === '\\') {
      i += escapeLength(source, i);
      atom(top, 1);
      group = undefined;
      afterQuantifier = false;
      continue;
    }
    if (c === '[') {
      // As JavaScript reads it: `[]` is an empty class and `[^]` any character, so the first `]` ends it.
      i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      atom(top, 1);
      group = undefined;
      afterQuantifier = false;
      continue;
    }
    if (c === '(') {
      // `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`, `(?P<name>`: the group's kind, not a quantifier.
      const kind = /^\(\?(?::|=|!|<=|<!|P?<[A-Za-z_$][A-Za-z0-9_$]*>)/.exec(source.slice(i));
      open.push(frame(kind !== null && /^\(\?(=|!|<=|<!)$/.test(kind[0])));
      i += kind ? kind[0].length : 1;
      group = undefined;
      afterQuantifier = false;
      continue;
    }
    if (c === '|') {
      top.alts.push(top.len);
      top.len = 0;
      top.last = 0;
      group = undefined;
      afterQuantifier = false;
      i++;
      continue;
    }
    if (c === ')' && open.length > 1) {
      group = open.pop()!;
      const parent = open[open.length - 1]!;
      // Alternatives of different lengths make the group variable: `(\d|\d\d)+` cuts a number
      // every way `(\d{1,2})+` does.
      const lengths = [...group.alts, group.len];
      // A piece of variable length, like `\d{1,2}`: `(1|11)` thirty times over cuts a number 2^30
      // ways. A quantifier right after it adds no second piece (`(\+|00)?` is one).
      if (lengths.some((n) => n !== lengths[0])) {
        if (!group.variable) {
          group.pieces++;
          group.alternates = true;
        }
        group.variable = true;
      }
      atom(parent, group.lookaround ? 0 : lengths[0]!);
      if (group.lookaround) group = undefined;
      else {
        if (group.variable) {
          parent.variable = true;
          parent.reps = Math.max(parent.reps, Math.max(1, group.reps));
        }
        parent.pieces += group.pieces;
      }
      afterQuantifier = false;
      i++;
      continue;
    }
    const braces = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
    const isQuantifier = c === '*' || c === '+' || c === '?' || braces !== null;
    if (isQuantifier && !(c === '?' && afterQuantifier)) {
      const max = braces ? (braces[2] === undefined ? Number(braces[1]) : braces[3] === '' ? Infinity : Number(braces[3])) : c === '?' ? 1 : Infinity;
      const variable = !braces || (braces[2] !== undefined && braces[3] !== braces[1]);
      if (group?.variable) {
        // Each repetition of the group repeats every variable-length group inside it.
        const reps = max * Math.max(1, group.reps);
        if (reps > MAX_SAFE_REPEATS) return NESTED;
        top.reps = Math.max(top.reps, reps);
        // Its pieces were counted once when it closed.
        top.pieces += group.pieces * (max - 1);
      }
      if (variable) {
        top.variable = true;
        if (!group?.alternates) top.pieces++;
      } else if (braces) {
        top.len += top.last * (Number(braces[1]) - 1);
      }
      i += braces ? braces[0].length : 1;
      group = undefined;
      afterQuantifier = true;
      continue;
    }
    i++;
    if (c !== '^' && c !== '$') atom(top, 1);
    group = undefined;
    afterQuantifier = false;
  }
  return open[0]!.pieces > MAX_PIECES ? TOO_MANY_PIECES : undefined;
}

/**
 * The characters an escape takes in the source, all of them one character of the match:
 * `\x2a`, `\u0023`, `\u{1F600}`, `\cJ`, `\p{L}`, `\k<name>`; otherwise the backslash and one.
 */
function escapeLength(source: string, at: number): number {
  const rest = source.slice(at);
  const m = /^\\(?:x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|c[A-Za-z]|[pP]\{[^}]*\}|k<[^>]*>)/.exec(rest);
  return m ? m[0].length : 2;
}

/** How many times a variable-length group may repeat: (\d+){3} tries n² cuts of an n-digit number. */
const MAX_SAFE_REPEATS = 3;
/**
 * Variable-length pieces a pattern may hold: on a 64-digit number (the longest routing matches
 * against patterns) 4 take milliseconds, 5 a tenth of a second, 6 over a second. Dial patterns
 * need 2 at most (`^\+?1?(\d{10})$`).
 */
const MAX_PIECES = 4;

const NESTED = `a group of variable length is repeated without bound or more than ${MAX_SAFE_REPEATS} times in all (like (\\d+)+, (\\d{1,3}){2,20} or ((\\d+){2}){2}): matching a long number can take exponential time; write it without the nesting`;
const TOO_MANY_PIECES = `more than ${MAX_PIECES} variable-length pieces, each counted as often as it can repeat (like (\\d+){3}\\d*\\d*): matching a long number can take seconds; write it with fewer`;
