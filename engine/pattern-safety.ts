/**
 * Whether a regular expression repeats a group that itself matches a variable length, without
 * bound or more than a few times, as in `(\d+)+`, `(\d*)*`, `(\d{2,5})+` or `(\d{1,3}){2,20}`.
 * JavaScript's backtracking engine may take exponential time on such a pattern when a number
 * almost matches (it tries every way to cut the number into repetitions): a 30-character number
 * can stall the process for seconds, and every other call with it. A purely syntactic check, read
 * as JavaScript reads a pattern: it also refuses the rare harmless form whose repetitions cannot
 * overlap (`(\d+,)+`), which can always be written without the nesting. It looks at quantifiers
 * only: alternatives of one character each (`(\d|\*|#)+`) are common in dial patterns and
 * harmless, and overlapping alternatives (`(1|12)+`) are left to the author.
 */
export function hasNestedRepetition(source: string): boolean {
  // For each open group: whether something inside it matches a variable length, and whether the
  // group is a lookaround (zero-width, whatever it contains).
  const open: { variable: boolean; lookaround: boolean }[] = [];
  // Whether the atom just read is a group of variable length.
  let variableGroup = false;
  // Whether the last thing read was a quantifier (a `?` after one makes it lazy, nothing more).
  let afterQuantifier = false;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      i += 2;
      variableGroup = afterQuantifier = false;
      continue;
    }
    if (c === '[') {
      // As JavaScript reads it: `[]` is an empty class and `[^]` any character, so the first `]` ends it.
      i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      variableGroup = afterQuantifier = false;
      continue;
    }
    if (c === '(') {
      // `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`, `(?P<name>`: the group's kind, not a quantifier.
      const kind = /^\(\?(?::|=|!|<=|<!|P?<[A-Za-z_$][A-Za-z0-9_$]*>)/.exec(source.slice(i));
      open.push({ variable: false, lookaround: kind !== null && /^\(\?(=|!|<=|<!)$/.test(kind[0]) });
      i += kind ? kind[0].length : 1;
      variableGroup = afterQuantifier = false;
      continue;
    }
    if (c === ')') {
      const group = open.pop();
      variableGroup = group !== undefined && !group.lookaround && group.variable;
      if (variableGroup && open.length > 0) open[open.length - 1]!.variable = true;
      afterQuantifier = false;
      i++;
      continue;
    }
    const braces = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
    const isQuantifier = c === '*' || c === '+' || c === '?' || braces !== null;
    if (isQuantifier && !(c === '?' && afterQuantifier)) {
      const max = braces ? (braces[2] === undefined ? Number(braces[1]) : braces[3] === '' ? Infinity : Number(braces[3])) : c === '?' ? 1 : Infinity;
      const variable = !braces || (braces[2] !== undefined && braces[3] !== braces[1]);
      // A few repetitions of a variable-length group cost a few nested loops; more are exponential.
      if (max > MAX_SAFE_REPEATS && variableGroup) return true;
      if (variable && open.length > 0) open[open.length - 1]!.variable = true;
      i += braces ? braces[0].length : 1;
      variableGroup = false;
      afterQuantifier = true;
      continue;
    }
    i++;
    variableGroup = afterQuantifier = false;
  }
  return false;
}

/** How many times a variable-length group may repeat: (\d+){3} tries n² cuts of an n-digit number. */
const MAX_SAFE_REPEATS = 3;
