import { EngineError } from '../../engine/errors.ts';
import { CaptureTag, Liquid, Tag, type Context, type FilterImplOptions, type TagToken, type TopLevelToken, type Template } from 'liquidjs';
import { plainParts, renderPlain, type PlainPart } from './plain-template.ts';

/** A template that could not be parsed or rendered: names the field and what is wrong. */
export class TemplateError extends EngineError {
  readonly kind = 'template_invalid';
  constructor(
    readonly templateId: string,
    readonly field: string,
    problem: string,
  ) {
    super(`template ${templateId}: ${field}: ${problem}`);
    this.name = 'TemplateError';
  }
}

// Templates are written by account admins, so they are untrusted: no file access, no way
// around HTML escaping, bounded work.
const noFiles = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async () => Promise.reject(new Error('templates cannot read files')),
  readFileSync: () => {
    throw new Error('templates cannot read files');
  },
  resolve: (_dir: string, file: string) => file,
  contains: async () => false,
  sep: '/',
  dirname: (f: string) => f,
};

class Forbidden extends Tag {
  constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
    super(token, remain, liquid);
    throw new Error(`the "${token.name}" tag is not allowed in notification templates`);
  }
  *render(): Generator<unknown, void, unknown> {}
}

/**
 * `capture` charges what it captured to the render's memory budget, as filters do: a capture
 * that appends a variable to itself doubles it each round, and Liquid's own budget did not see it
 * (22 rounds made a 42-million-character body in 5 ms).
 */
class BoundedCapture extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, string> {
    yield* super.render(ctx);
    const captured = ctx.bottom()[this.variable as keyof object] as unknown;
    if (typeof captured === 'string') ctx.memoryLimit.use(captured.length);
  }
}

/** The longest field a template may render to (characters): far above any real notification. */
export const MAX_RENDERED_CHARS = 1_000_000;

/**
 * The moment a template is rendered at and the time zone its dates are written in: the call's
 * clock and the account's zone, never the machine's (a scenario must render the same anywhere).
 */
export interface RenderTime {
  /** Milliseconds since the epoch, from the engine's clock. */
  readonly now: number;
  /** IANA name, the account's. */
  readonly timezone: string;
}

type FilterThis = { context: Context };
type FilterFn = (this: FilterThis, value: unknown, ...args: unknown[]) => unknown;
const handlerOf = (f: FilterImplOptions): FilterFn => (typeof f === 'function' ? f : f.handler) as FilterFn;

/**
 * What a filter's result costs the render's memory budget: its characters, or for an array the
 * characters of its strings. Liquid charges an array by its length alone, so 32,768 copies of
 * one 45,000-character literal cost 32,768, and one `sort_natural` over them then held the
 * process for seconds (Liquid checks its time limit between nodes, never inside a filter).
 */
function cost(out: unknown): number {
  if (typeof out === 'string') return out.length;
  if (!Array.isArray(out)) return 0;
  let n = out.length;
  for (const v of out) if (typeof v === 'string') n += v.length;
  return n;
}

const DATE_FILTERS = ['date', 'date_to_xmlschema', 'date_to_rfc822', 'date_to_string', 'date_to_long_string'];

/**
 * Liquid's date filters read "now" from the machine's clock and write dates in the machine's
 * zone. Here "now"/"today" is the render's moment and dates are in the account's zone; a date
 * filter where no moment was given (no call) refuses "now".
 */
function injectTime(liquid: Liquid, timeOf: () => RenderTime | undefined): void {
  for (const name of DATE_FILTERS) {
    const original = handlerOf(liquid.filters[name]!);
    liquid.registerFilter(name, function (this: FilterThis, value: unknown, ...args: unknown[]) {
      const t = timeOf();
      let v = value;
      if (v === 'now' || v === 'today') {
        if (!t) throw new Error(`${name}: "${v}" has no moment here`);
        v = Math.floor(t.now / 1000);
      }
      const zone = t?.timezone ?? 'UTC';
      const context = Object.create(this.context, { opts: { value: { ...this.context.opts, timezoneOffset: zone } } }) as Context;
      return original.call({ ...this, context }, v, ...args);
    });
  }
}

/** Every filter's result is charged to the render's memory budget (see `cost`). */
function chargeFilters(liquid: Liquid): void {
  for (const [name, impl] of Object.entries(liquid.filters)) {
    const original = handlerOf(impl);
    const raw = typeof impl === 'function' ? false : !!impl.raw;
    // A generator, like Liquid's own filters: the original may itself yield (a generator or a value).
    const handler = function* (this: FilterThis, ...args: unknown[]): Generator<unknown, unknown, unknown> {
      const out = yield original.apply(this, args as [unknown, ...unknown[]]);
      this.context.memoryLimit.use(cost(out));
      return out;
    };
    liquid.registerFilter(name, { handler, raw });
  }
}

function sandboxed(escapeHtml: boolean, timeOf: () => RenderTime | undefined): Liquid {
  const liquid = new Liquid({
    ...(escapeHtml ? { outputEscape: 'escape' as const } : {}),
    // Dates not given a zone are written in UTC, never in the machine's zone.
    timezoneOffset: 'UTC',
    strictFilters: true,
    ownPropertyOnly: true,
    fs: noFiles,
    root: [],
    partials: [],
    layouts: [],
    relativeReference: false,
    parseLimit: 100_000,
    renderLimit: 200,
    memoryLimit: 1_000_000,
  });
  // `raw` would switch escaping off for a value a caller controls.
  liquid.registerFilter('raw', (v: unknown) => v);
  for (const name of ['include', 'render', 'layout', 'block']) liquid.registerTag(name, Forbidden);
  liquid.registerTag('capture', BoundedCapture);
  // `sample` and `shuffle` would make a scenario render differently each run.
  for (const name of ['sample', 'shuffle']) {
    if (name in liquid.filters) {
      liquid.registerFilter(name, () => {
        throw new Error(`the "${name}" filter is not allowed in notification templates`);
      });
    }
  }
  injectTime(liquid, timeOf);
  chargeFilters(liquid);
  return liquid;
}

/**
 * Renders account templates with Liquid ({{ call.caller_id_name }}, filters, if/for), which
 * reads like KAZOO's Django-style ErlyDTL templates and cannot run code.
 */
export class TemplateRenderer {
  /** The moment of the render in progress (rendering is synchronous: one at a time). */
  private time: RenderTime | undefined;
  private readonly text = sandboxed(false, () => this.time);
  private readonly html = sandboxed(true, () => this.time);
  private readonly parsed = new Map<string, { liquid: Template[]; plain: PlainPart[] | undefined }>();

  /** `plain: false` renders every template with Liquid (tests compare the two). */
  constructor(private readonly opts: { readonly plain?: boolean } = {}) {}

  /** `time`: the moment "now" means and the zone dates are written in (without one, UTC and no "now"). */
  render(templateId: string, field: string, source: string, values: Record<string, unknown>, as: 'text' | 'html', time?: RenderTime): string {
    const engine = as === 'html' ? this.html : this.text;
    const key = `${as}\u0000${source}`;
    try {
      let t = this.parsed.get(key);
      if (!t) {
        // Parsed by Liquid even when rendered without it: a template is accepted or refused by Liquid alone.
        t = { liquid: engine.parse(source), plain: this.opts.plain === false ? undefined : plainParts(source) };
        if (this.parsed.size > 500) this.parsed.clear();
        this.parsed.set(key, t);
      }
      let out = t.plain && renderPlain(t.plain, values, as === 'html');
      if (out === undefined) {
        this.time = time;
        try {
          out = engine.renderSync(t.liquid, values) as string;
        } finally {
          this.time = undefined;
        }
      }
      if (out.length > MAX_RENDERED_CHARS) throw new Error(`renders to ${out.length} characters, more than ${MAX_RENDERED_CHARS}`);
      return out;
    } catch (err) {
      // Liquid quotes the template text in its message, line breaks and all: one line, whole.
      throw new TemplateError(templateId, field, oneLine((err as Error).message));
    }
  }
}

/** A message on one line, with what is wrong and where kept (they come after the quoted text). */
function oneLine(message: string): string {
  const line = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  // A long quoted tag would bury the reason, which Liquid puts last.
  return line.length <= 240 ? line : `${line.slice(0, 100)} … ${line.slice(-140)}`;
}
