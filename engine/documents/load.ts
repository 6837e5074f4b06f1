import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { DocumentError } from '../errors.ts';
import type { ModuleRegistry } from '../module.ts';
import type { AccountBundle, CallflowDoc, FlowNode, LoadedCallflow } from './types.ts';
import { revisionHash } from './hash.ts';
import { joinPointer } from './pointer.ts';
import type { SchemaValidator } from './validator.ts';
import { compilePattern } from '../routing.ts';

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

/** Reads and parses a JSON file; a syntax error names the line and column. */
export function readJsonFile(file: string): { ok: true; value: unknown } | { ok: false; error: DocumentError } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return { ok: false, error: new DocumentError(file, '', `cannot read file (${code})`) };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: new DocumentError(file, '', `invalid JSON: ${jsonErrorPlace(text, err)}`) };
  }
}

function jsonErrorPlace(text: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /position (\d+)/.exec(msg);
  if (!m) return msg;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${msg.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${col}`;
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
  (raw.callflows as unknown[]).forEach((entry, i) => {
    const result =
      typeof entry === 'string'
        ? loadCallflowFile(besideFile(file, entry), ctx)
        : checkCallflow(entry, file, joinPointer('', 'callflows', i), ctx);
    warnings.push(...result.warnings);
    if (result.ok) callflows.push(result.value);
    else errors.push(...result.errors);
  });

  const ids = new Map<string, string>();
  for (const kind of ['users', 'devices', 'vmboxes', 'notification_templates'] as const) {
    (raw[kind] as { id: string }[]).forEach((d, i) => {
      const at = joinPointer('', kind, i, 'id');
      if (ids.has(`${kind}:${d.id}`)) errors.push(new DocumentError(file, at, `duplicate id "${d.id}"`));
      ids.set(`${kind}:${d.id}`, at);
    });
  }
  const seen = new Set<string>();
  for (const cf of callflows) {
    if (seen.has(cf.doc.id)) errors.push(new DocumentError(cf.file, '/id', `duplicate callflow id "${cf.doc.id}"`));
    seen.add(cf.doc.id);
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
