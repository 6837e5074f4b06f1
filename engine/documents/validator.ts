import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import { flowNodeSchema, callflowSchema, accountBundleSchema } from './schemas.ts';

export interface SchemaProblem {
  /** JSON pointer inside the validated value. */
  readonly pointer: string;
  readonly problem: string;
}

/**
 * One ajv instance per validator, with every schema compiled once. Defaults are filled in from
 * the schemas as they validate (ajv `useDefaults`), so validated data is also completed data.
 * A schema with a `pattern` may say in `patternHint` what a matching value is ("one plain email
 * address"): its errors then say that instead of the regular expression. So may a schema with a
 * `oneOf` in `oneOfHint` ("needs either a or b"): its failure is then that one line, not one per
 * branch that failed and ajv's "must match exactly one schema in oneOf" besides.
 */
export class SchemaValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    // verbose: an error carries its schema, so a pattern can be explained by its patternHint.
    this.ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
    (formats as unknown as { default: (ajv: Ajv) => void }).default(this.ajv);
    this.ajv.addSchema(flowNodeSchema);
    this.ajv.addSchema(callflowSchema);
    this.ajv.addSchema(accountBundleSchema);
  }

  /** Validates (and completes with defaults, in place) `value` against a registered schema id. */
  validateById(id: string, value: unknown): SchemaProblem[] {
    const fn = this.ajv.getSchema(id);
    if (!fn) throw new Error(`no schema registered as ${id}`);
    return fn(value) ? [] : problemsOf(fn.errors ?? [], value);
  }

  /** Validates (and completes in place) `value` against `schema`, compiled once per schema object. */
  validate(key: string, schema: object, value: unknown): SchemaProblem[] {
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.compiled.set(key, fn);
    }
    return fn(value) ? [] : problemsOf(fn.errors ?? [], value);
  }
}

function problemsOf(errors: readonly ErrorObject[], root: unknown): SchemaProblem[] {
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  // anyOf reports every failed branch plus itself; its one summary line is enough.
  const anyOfAt = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  const insideAnyOf = (e: ErrorObject): boolean =>
    e.keyword !== 'anyOf' && anyOfAt.some((p) => e.instancePath === p || e.instancePath.startsWith(p + '/'));
  const hintedOneOf = errors.filter((e) => e.keyword === 'oneOf' && typeof oneOfHint(e) === 'string').map((e) => e.schemaPath + '/');
  const insideHintedOneOf = (e: ErrorObject): boolean => hintedOneOf.some((p) => e.schemaPath.startsWith(p));
  for (const e of errors) {
    // `if` adds "must match then schema" beside the real errors of the `then` branch, and
    // `propertyNames` "property name must be valid" beside the name's own error.
    if (insideAnyOf(e) || insideHintedOneOf(e) || e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    const p = describe(e, root);
    const key = p.pointer + '\u0000' + p.problem;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

const oneOfHint = (e: ErrorObject): unknown => (e.parentSchema as { oneOfHint?: unknown } | undefined)?.oneOfHint;

function describe(e: ErrorObject, root: unknown): SchemaProblem {
  const got = ` (got ${shortJson(valueAt(root, e.instancePath))})`;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { pointer: e.instancePath, problem: `missing required field "${String(params.missingProperty)}"` };
    case 'additionalProperties':
      return { pointer: e.instancePath, problem: `unknown field "${String(params.additionalProperty)}"` };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { pointer: e.instancePath, problem: `must be one of ${allowed}${got}` };
    }
    case 'type':
      return { pointer: e.instancePath, problem: `must be ${String(params.type)}${got}` };
    case 'anyOf':
      return { pointer: e.instancePath, problem: 'does not match any allowed shape' };
    case 'oneOf': {
      const hint = oneOfHint(e);
      return { pointer: e.instancePath, problem: typeof hint === 'string' ? hint : (e.message ?? e.keyword) };
    }
    case 'pattern':
    case 'maxLength': {
      // A regular expression is no explanation: say what the value must be, where the schema does.
      const hint = (e.parentSchema as { patternHint?: unknown } | undefined)?.patternHint;
      return { pointer: e.instancePath, problem: `${typeof hint === 'string' ? `must be ${hint}` : e.message}${got}` };
    }
    default:
      return { pointer: e.instancePath, problem: e.message ?? e.keyword };
  }
}

function valueAt(root: unknown, ptr: string): unknown {
  if (!ptr) return root;
  let v: unknown = root;
  for (const raw of ptr.slice(1).split('/')) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function shortJson(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}
