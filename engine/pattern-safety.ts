/**
 * Whether a regular expression repeats, without bound, a group that itself matches a variable
 * length, as in `(\d+)+`, `(\d*)*` or `(\d{2,5})+`. JavaScript's backtracking engine may take
 * exponential time on such a pattern when a number almost matches (it tries every way to cut the
 * number into repetitions): a 30-character number can stall the process for seconds, and every
 * other call with it. A purely syntactic check: it also refuses the rare harmless form whose
 * repetitions cannot overlap (`(\d+,)+`), which can always be written without the nesting. It
 * looks at quantifiers only: alternatives of one character each (`(\d|\*|#)+`) are common in dial
 * patterns and harmless, and overlapping alternatives (`(1|12)+`) are left to the author.
 */
export function hasNestedRepetition(source: string): boolean {
  // For each open group: whether something inside it matches a variable length.
  const open: boolean[] = [];
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
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      variableGroup = afterQuantifier = false;
      continue;
    }
    if (c === '(') {
      open.push(false);
      // `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`, `(?P<name>`: the group's kind, not a quantifier.
      const kind = /^\(\?(?::|=|!|<=|<!|P?<[A-Za-z_][A-Za-z0-9_]*>)/.exec(source.slice(i));
      i += kind ? kind[0].length : 1;
      variableGroup = afterQuantifier = false;
      continue;
    }
    if (c === ')') {
      variableGroup = open.pop() ?? false;
      if (variableGroup && open.length > 0) open[open.length - 1] = true;
      afterQuantifier = false;
      i++;
      continue;
    }
    const braces = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
    const isQuantifier = c === '*' || c === '+' || c === '?' || braces !== null;
    if (isQuantifier && !(c === '?' && afterQuantifier)) {
      const unbounded = c === '*' || c === '+' || (braces !== null && braces[2] !== undefined && braces[3] === '');
      const variable = !braces || (braces[2] !== undefined && braces[3] !== braces[1]);
      if (unbounded && variableGroup) return true;
      if (variable && open.length > 0) open[open.length - 1] = true;
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
