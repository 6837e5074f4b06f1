import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { DocumentError } from '../errors.ts';
import type { ModuleRegistry } from '../module.ts';
import type { AccountBundle, CallflowDoc, FlowNode, LoadedCallflow } from './types.ts';
import { revisionHash } from './hash.ts';
import { joinPointer } from './pointer.ts';
import type { SchemaValidator } from './validator.ts';
import { compilePattern } from '../routing.ts';
import { printable } from '../text.ts';

/** A path written in a document: relative to that document's folder, unless absolute. */
export const besideFile = (documentFile: string, p: string): string => (isAbsolute(p) ? p : join(dirname(documentFile), p));

/** A finding that does not stop a document from loading (KAZOO logs these and carries on). */
export class DocumentWarning {
  constructor(
    readonly file: string,
    readonly pointer: string,
    readonly problem: string,
  ) {}
  toString(): string {
    return `${this.file}: ${this.pointer || '/'}: ${this.problem}`;
  }
}

export type LoadResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly DocumentWarning[] }
  | { readonly ok: false; readonly errors: readonly DocumentError[]; readonly warnings: readonly DocumentWarning[] };

export interface LoadContext {
  readonly registry: ModuleRegistry;
  readonly validator: SchemaValidator;
}

/** Far beyond any real document; a bigger file is a mistake (`/dev/zero` would fill memory). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * JSON nesting deeper than this is refused before anything recursive (hashing, structuredClone,
 * ajv, walkNodes) sees it, or it could overflow the stack with no file or pointer named. Each flow
 * node takes two levels (the node, its `children`): 200 nodes deep, where KAZOO's whole branch
 * budget is 50.
 */
const MAX_DEPTH = 400;

/** Reads and parses a JSON file; a syntax error names the line and column. */
export function readJsonFile(file: string): { ok: true; value: unknown } | { ok: false; error: DocumentError } {
  let text: string;
  let fd: number | undefined;
  try {
    // Non-blocking, so opening a FIFO with no writer returns at once; the checks then look at what
    // was opened, not at a path that could be swapped in between.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, error: new DocumentError(file, '', 'not a regular file') };
    if (stat.size > MAX_FILE_BYTES) return { ok: false, error: new DocumentError(file, '', 'larger than 10 MB') };
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return { ok: false, error: new DocumentError(file, '', `cannot read file (${code})`) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    return { ok: false, error: new DocumentError(file, '', `invalid JSON: ${jsonErrorPlace(text, err)}`) };
  }
  const deep = tooDeep(value, file, '');
  return deep ? { ok: false, error: deep } : { ok: true, value };
}

/** Where a value nests deeper than MAX_DEPTH, found without recursion (recursion is the danger). */
function tooDeep(value: unknown, file: string, base: string): DocumentError | undefined {
  // Each entry links to its parent, so the pointer is spelled out only for the one reported.
  type Entry = { value: unknown; key: string; parent: Entry | undefined; depth: number };
  const stack: Entry[] = [{ value, key: '', parent: undefined, depth: 0 }];
  for (let e = stack.pop(); e; e = stack.pop()) {
    if (e.value === null || typeof e.value !== 'object') continue;
    if (e.depth === MAX_DEPTH) {
      const keys: string[] = [];
      for (let p: Entry | undefined = e; p?.parent; p = p.parent) keys.unshift(p.key);
      return new DocumentError(file, joinPointer(base, ...keys), `nested more than ${MAX_DEPTH} levels deep (about ${MAX_DEPTH / 2} levels of flow nodes): too deep to check`);
    }
    for (const [key, child] of Object.entries(e.value)) stack.push({ value: child, key, parent: e, depth: e.depth + 1 });
  }
  return undefined;
}

// JSON.parse's messages quote the raw text when they give no position ("Unexpected token 'h',
// "hi\n\u001b]0;..." is not valid JSON"), and a file's bytes must never reach the terminal, so
// the place and the reason are found by scanning the text here; V8's message is only a fallback.
function jsonErrorPlace(text: string, err: unknown): string {
  const found = firstJsonError(text);
  if (found) {
    const before = text.slice(0, found.at);
    const line = before.split('\n').length;
    const col = found.at - before.lastIndexOf('\n');
    return `${found.reason} at line ${line} column ${col}`;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return printable(msg.replace(/,? *"[\s\S]*$/, '').replace(/ in JSON at position \d+.*$/, ''));
}

/**
 * A character as an error message may show it: itself if visible, else its code point, so a
 * control character cannot act on the terminal and a byte order mark or space is not invisible.
 */
function shown(text: string, at: number): string {
  if (at >= text.length) return 'the end of the file';
  const cp = text.codePointAt(at)!;
  const ch = String.fromCodePoint(cp);
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch) && printable(ch) === ch ? `'${ch}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

class JsonSyntax {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {}
}

/**
 * Where JSON text first breaks RFC 8259, and why; undefined if it does not. Only called once
 * JSON.parse has failed, so it needs to be exact about the place, not fast.
 */
function firstJsonError(text: string): { at: number; reason: string } | undefined {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new JsonSyntax(at, at >= text.length ? 'unexpected end of file' : reason);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const need = (ch: string, what: string): void => {
    if (text[i] !== ch) fail(`expected ${what}, found ${shown(text, i)}`);
    i++;
  };
  const string = (): void => {
    i++;
    for (;;) {
      if (i >= text.length) fail('unexpected end of file');
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail(`control character ${shown(text, i)} in a string (write it escaped)`);
      if (c === 0x5c) {
        i++;
        if (i >= text.length) fail('unexpected end of file');
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape in a string', i - 1);
          i += 5;
        } else if ('"\\/bfnrt'.includes(text[i]!)) i++;
        else fail(`bad escape in a string: backslash then ${shown(text, i)}`, i - 1);
      } else i++;
    }
  };
  /** A property name and its ':', leaving the scan at the property's value. */
  const key = (): void => {
    ws();
    if (text[i] !== '"') fail(`expected a property name in double quotes, found ${shown(text, i)}`);
    string();
    ws();
    need(':', "':' after a property name");
  };
  const scalar = (c: string): void => {
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
      m.lastIndex = i;
      const num = m.exec(text);
      const end = i + (num?.[0].length ?? 0);
      // The pattern stops where a valid number does, so "01", "1." and "1e" leave a digit, dot or e.
      if (!num || /[.eE0-9]/.test(text[end] ?? '')) fail('invalid number');
      i = end;
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) return void (i += word.length);
    }
    fail(`unexpected character ${shown(text, i)}`);
  };
  // A loop with the open objects and arrays on a stack, not recursion: text nested thousands
  // deep overflows the call stack, and such text is just what a user needs the place of. The
  // stack holds each one's closing character, a byte apiece: no deeper than the text is long.
  const value = (): void => {
    const closers = new Uint8Array(text.length);
    let depth = 0;
    for (;;) {
      ws();
      if (i >= text.length) fail('unexpected end of file');
      const c = text[i]!;
      if (c === '{' || c === '[') {
        const closer = c === '{' ? '}' : ']';
        i++;
        ws();
        if (text[i] !== closer) {
          closers[depth++] = closer.charCodeAt(0);
          if (c === '{') key();
          continue;
        }
        i++;
      } else scalar(c);
      // A value has ended: close the objects and arrays it completes, then on to the next member.
      for (;;) {
        if (depth === 0) return;
        ws();
        const closer = closers[depth - 1]!;
        if (text.charCodeAt(i) === closer) {
          i++;
          depth--;
          continue;
        }
        if (closer === 0x7d) {
          need(',', "',' or '}' after a property value");
          key();
        } else need(',', "',' or ']' after an array element");
        break;
      }
    }
  };
  try {
    ws();
    if (i >= text.length) return { at: i, reason: 'empty file' };
    value();
    ws();
    if (i < text.length) fail(`unexpected ${shown(text, i)} after the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof JsonSyntax) return { at: e.at, reason: e.reason };
    return undefined;
  }
}

/**
 * Validates a callflow document: its own shape, every pattern, and each node's `data` against
 * its module's schema (filling defaults). Unknown modules are warnings: KAZOO skips them at run time.
 */
export function checkCallflow(raw: unknown, file: string, base: string, ctx: LoadContext): LoadResult<LoadedCallflow> {
  const errors: DocumentError[] = [];
  const warnings: DocumentWarning[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [new DocumentError(file, base, 'a callflow must be a JSON object')], warnings };
  }
  const deep = tooDeep(raw, file, base);
  if (deep) return { ok: false, errors: [deep], warnings };
  const revision = revisionHash(raw);
  const doc = structuredClone(raw) as CallflowDoc;
  for (const p of ctx.validator.validateById('callflow', doc)) {
    errors.push(new DocumentError(file, base + p.pointer, p.problem));
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  doc.patterns.forEach((pat, i) => {
    const compiled = compilePattern(pat);
    if (!compiled.ok) errors.push(new DocumentError(file, joinPointer(base, 'patterns', i), compiled.problem));
  });
  walkNodes(doc.flow, joinPointer(base, 'flow'), (node, at) => {
    const mod = ctx.registry.get(node.module);
    if (!mod) {
      warnings.push(
        new DocumentWarning(file, at + '/module', `unknown module "${node.module}": it will be skipped at run time`),
      );
      return;
    }
    for (const p of ctx.validator.validate(`module:${mod.name}`, mod.schema, node.data)) {
      errors.push(new DocumentError(file, at + '/data' + p.pointer, p.problem));
    }
  });
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, value: { doc, file, revision }, warnings };
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function walkNodes(node: FlowNode, at: string, visit: (node: FlowNode, at: string) => void): void {
  visit(node, at);
  for (const [key, child] of Object.entries(node.children ?? {})) {
    if ('module' in child) walkNodes(child as FlowNode, joinPointer(at, 'children', key), visit);
  }
}

export function loadCallflowFile(file: string, ctx: LoadContext): LoadResult<LoadedCallflow> {
  const read = readJsonFile(file);
  if (!read.ok) return { ok: false, errors: [read.error], warnings: [] };
  return checkCallflow(read.value, file, '', ctx);
}

/** Loads an account bundle; callflows may be inline or paths relative to the bundle file. */
export function loadAccountBundle(file: string, ctx: LoadContext): LoadResult<AccountBundle> {
  const read = readJsonFile(file);
  if (!read.ok) return { ok: false, errors: [read.error], warnings: [] };
  const raw = structuredClone(read.value) as Record<string, unknown>;
  const errors: DocumentError[] = [];
  const warnings: DocumentWarning[] = [];
  for (const p of ctx.validator.validateById('account-bundle', raw)) {
    errors.push(new DocumentError(file, p.pointer, p.problem));
  }
  for (const [collection, moduleName, schema] of ctx.registry.documentSchemas()) {
    const items = raw[collection];
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      for (const p of ctx.validator.validate(`document:${moduleName}:${collection}`, schema, item)) {
        errors.push(new DocumentError(file, joinPointer('', collection, i) + p.pointer, p.problem));
      }
    });
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  const tz = (raw.account as { timezone: string }).timezone;
  if (!validTimezone(tz)) errors.push(new DocumentError(file, '/account/timezone', `unknown time zone "${tz}"`));

  const callflows: LoadedCallflow[] = [];
  // Where each callflow's document starts in its file: '' in its own file, /callflows/<i> inline.
  const bases: string[] = [];
  (raw.callflows as unknown[]).forEach((entry, i) => {
    const base = typeof entry === 'string' ? '' : joinPointer('', 'callflows', i);
    const result = typeof entry === 'string' ? loadCallflowFile(besideFile(file, entry), ctx) : checkCallflow(entry, file, base, ctx);
    warnings.push(...result.warnings);
    if (result.ok) {
      callflows.push(result.value);
      bases.push(base);
    } else if (typeof entry === 'string') {
      // Said through the entry naming the file, as a scenario says its account's errors: the
      // file's own error alone does not say which account, or which entry, named it.
      const at = joinPointer('', 'callflows', i);
      errors.push(...result.errors.map((e) => new DocumentError(file, at, e.message)));
    } else errors.push(...result.errors);
  });

  const ids = new Map<string, string>();
  for (const kind of ['users', 'devices', 'vmboxes', 'notification_templates'] as const) {
    (raw[kind] as { id: string }[]).forEach((d, i) => {
      const at = joinPointer('', kind, i, 'id');
      if (ids.has(`${kind}:${d.id}`)) errors.push(new DocumentError(file, at, `duplicate id "${d.id}"`));
      ids.set(`${kind}:${d.id}`, at);
    });
  }
  // A box number picks one box (check's login, the capture group): two with one number would
  // leave the second unreachable, whichever a lookup found first.
  const mailboxes = new Set<string>();
  (raw.vmboxes as { mailbox?: unknown }[]).forEach((b, i) => {
    if (typeof b.mailbox !== 'string') return;
    if (mailboxes.has(b.mailbox)) {
      errors.push(new DocumentError(file, joinPointer('', 'vmboxes', i, 'mailbox'), `duplicate mailbox number "${b.mailbox}"`));
    }
    mailboxes.add(b.mailbox);
  });
  const seen = new Set<string>();
  for (const [i, cf] of callflows.entries()) {
    if (seen.has(cf.doc.id)) errors.push(new DocumentError(cf.file, bases[i] + '/id', `duplicate callflow id "${cf.doc.id}"`));
    seen.add(cf.doc.id);
  }
  // KAZOO refuses to save a callflow with a number another callflow has; a bundle can still say
  // it twice. Routing keeps the first (as KAZOO's lookup would): the later claim never runs, and
  // nothing else would tell the author why.
  const owner = new Map<string, string>();
  for (const [i, cf] of callflows.entries()) {
    cf.doc.numbers.forEach((n, j) => {
      const first = owner.get(n);
      if (first === undefined) owner.set(n, cf.doc.id);
      else if (first !== cf.doc.id) {
        const at = bases[i] + joinPointer('', 'numbers', j);
        warnings.push(new DocumentWarning(cf.file, at, `number "${printable(n)}" is already callflow "${printable(first)}"'s, which calls to it will run`));
      }
    });
  }
  const users = raw.users as AccountBundle['users'];
  (raw.devices as AccountBundle['devices']).forEach((d, i) => {
    if (d.owner_id !== undefined && !users.some((u) => u.id === d.owner_id)) {
      warnings.push(new DocumentWarning(file, joinPointer('', 'devices', i, 'owner_id'), `no user "${d.owner_id}"`));
    }
  });
  if (errors.length > 0) return { ok: false, errors, warnings };

  return {
    ok: true,
    warnings,
    value: {
      file,
      account: raw.account as AccountBundle['account'],
      users,
      devices: raw.devices as AccountBundle['devices'],
      vmboxes: raw.vmboxes as AccountBundle['vmboxes'],
      notificationTemplates: raw.notification_templates as AccountBundle['notificationTemplates'],
      callflows,
    },
  };
}
