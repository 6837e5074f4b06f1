import { loadAccountBundle, loadCallflowFile } from '../../engine/documents/load.ts';
import { SchemaValidator } from '../../engine/documents/validator.ts';
import { createRegistry } from '../../modules/index.ts';
import type { TreeDocument } from './tree.ts';

export type LoadedDocs = { ok: true; docs: TreeDocument[]; source: string } | { ok: false; errors: string[] };

/**
 * The callflow documents for the HTML trace: every callflow of an account bundle (so branches
 * into other callflows can be drawn whole too) and/or one callflow file, loaded and completed
 * with module defaults exactly as the engine loads them. A callflow file given wins over the
 * account's callflow with the same id.
 */
export function loadTraceDocuments(opts: { account?: string | undefined; callflow?: string | undefined }): LoadedDocs {
  const ctx = { registry: createRegistry(), validator: new SchemaValidator() };
  const docs: TreeDocument[] = [];
  const errors: string[] = [];
  const sources: string[] = [];
  if (opts.callflow) {
    const r = loadCallflowFile(opts.callflow, ctx);
    if (r.ok) docs.push({ doc: r.value.doc, revision: r.value.revision, file: r.value.file });
    else errors.push(...r.errors.map((e) => e.message));
    sources.push(opts.callflow);
  }
  if (opts.account) {
    const r = loadAccountBundle(opts.account, ctx);
    if (r.ok) for (const cf of r.value.callflows) docs.push({ doc: cf.doc, revision: cf.revision, file: cf.file });
    else errors.push(...r.errors.map((e) => e.message));
    sources.push(opts.account);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, docs, source: sources.join(', ') };
}
