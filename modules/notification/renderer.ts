import { EngineError } from '../../engine/errors.ts';
import { CaptureTag, Liquid, Tag, type Context, type TagToken, type TopLevelToken, type Template } from 'liquidjs';
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

function sandboxed(escapeHtml: boolean): Liquid {
  const liquid = new Liquid({
    ...(escapeHtml ? { outputEscape: 'escape' as const } : {}),
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
  return liquid;
}

/**
 * Renders account templates with Liquid ({{ call.caller_id_name }}, filters, if/for), which
 * reads like KAZOO's Django-style ErlyDTL templates and cannot run code.
 */
export class TemplateRenderer {
  private readonly text = sandboxed(false);
  private readonly html = sandboxed(true);
  private readonly parsed = new Map<string, { liquid: Template[]; plain: PlainPart[] | undefined }>();

  /** `plain: false` renders every template with Liquid (tests compare the two). */
  constructor(private readonly opts: { readonly plain?: boolean } = {}) {}

  render(templateId: string, field: string, source: string, values: Record<string, unknown>, as: 'text' | 'html'): string {
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
      const out = (t.plain && renderPlain(t.plain, values, as === 'html')) ?? (engine.renderSync(t.liquid, values) as string);
      if (out.length > MAX_RENDERED_CHARS) throw new Error(`renders to ${out.length} characters, more than ${MAX_RENDERED_CHARS}`);
      return out;
    } catch (err) {
      throw new TemplateError(templateId, field, (err as Error).message.split('\n')[0]!);
    }
  }
}
