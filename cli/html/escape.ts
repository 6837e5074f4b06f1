/**
 * Everything that reaches the page from the step log is untrusted (caller ids, data, headers,
 * template output). Markup only ever sees it through `esc`; scripts only through `jsonForScript`.
 */

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const SPECIAL = /[&<>"']/;
const SPECIALS = /[&<>"']/g;
/** Control characters (but tab and newline) and bidirectional overrides: shown as U+FFFD. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text or attribute value, escaped for HTML. null/undefined give "". */
export function esc(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (CONTROL.test(s)) s = s.replace(CONTROLS, '\ufffd');
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ENTITY[c]!) : s;
}

/**
 * JSON for a `<script type="application/json">` block: every `<` becomes \u003c, so no value can
 * close the element or open a comment; U+2028/2029 are escaped too for good measure.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
