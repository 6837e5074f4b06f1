/**
 * Most notification templates are text with `{{ a.b.c }}` outputs and nothing else (teletype's
 * defaults are). Liquid renders those through generators, scopes and a filter chain, which made
 * the three fields of a voicemail-to-email a twentieth of a simulated voicemail call. A template
 * of that shape is rendered here instead, by the same rules; anything this cannot decide to the
 * letter (a missing value, an array, an object with its own lookup, a special property) goes back
 * to Liquid, so the output is always what Liquid's would be. Only a refusal at the size limits
 * reads differently: Liquid's memory limit there, the renderer's 1,000,000-character cap here.
 */

/** Literal text, or the property path of one `{{ output }}`. */
export type PlainPart = string | readonly string[];

const OUTPUT = /\{\{([\s\S]*?)\}\}/g;
const PATH = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$/;
/** Liquid reads these as literals, not variables. */
const LITERALS = new Set(['true', 'false', 'nil', 'null', 'empty', 'blank']);
/** Liquid computes these for arrays and strings, and asks objects with `toLiquid` themselves. */
const SPECIAL = new Set(['size', 'first', 'last', 'toLiquid']);

/** The template's parts when it is plain text and plain outputs; undefined otherwise. */
export function plainParts(source: string): PlainPart[] | undefined {
  if (source.includes('{%')) return undefined;
  const parts: PlainPart[] = [];
  let at = 0;
  for (const m of source.matchAll(OUTPUT)) {
    const text = source.slice(at, m.index);
    if (text.includes('{{')) return undefined;
    const path = PATH.exec(m[1]!)?.[1]?.split('.');
    if (!path || LITERALS.has(path[0]!) || path.some((k) => SPECIAL.has(k))) return undefined;
    if (text) parts.push(text);
    parts.push(path);
    at = m.index + m[0].length;
  }
  const tail = source.slice(at);
  if (tail.includes('{{')) return undefined;
  if (tail) parts.push(tail);
  return parts;
}

// Liquid's `escape` filter, which its HTML engine applies to every output.
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** Renders plain parts as Liquid would, or undefined when only Liquid can say. */
export function renderPlain(parts: readonly PlainPart[], values: Record<string, unknown>, escape: boolean): string | undefined {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    let v: unknown = values;
    for (const key of part) {
      // Liquid's ownPropertyOnly: an inherited or missing property is Liquid's to resolve.
      if (!isPlainObject(v) || !Object.hasOwn(v, key)) return undefined;
      v = v[key];
    }
    let s: string;
    if (typeof v === 'string') s = v;
    else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
    else if (v === null) s = '';
    else return undefined;
    out += escape ? escapeHtml(s) : s;
  }
  return out;
}
