import { SchemaValidator } from '../../engine/documents/validator.ts';
import { checkCallflow, loadAccountBundle, readJsonFile, type LoadResult } from '../../engine/documents/load.ts';
import { UsageError } from '../../engine/errors.ts';
import { createRegistry } from '../../modules/index.ts';
import { loadScenario } from '../../integrations/simulator/load-scenario.ts';
import type { Command } from '../command.ts';
import { printable } from '../../engine/text.ts';

type Kind = 'account bundle' | 'callflow' | 'scenario';

function kindOf(value: unknown): Kind | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if ('account' in v && typeof v.account === 'object') return 'account bundle';
  if ('flow' in v) return 'callflow';
  if ('call' in v) return 'scenario';
  return undefined;
}

export const validateCommand: Command = {
  name: 'validate',
  usage: 'callflow validate <files...>',
  summary: 'check callflows, account bundles and scenarios against their schemas',
  help: `Validates each file: a callflow (has "flow"), an account bundle (has "account"; its callflows too)
or a scenario (has "call"; its account and callflow too). Every module's "data" is checked against
that module's JSON schema. Problems print one per line as FILE: JSON-POINTER: WHAT; unknown modules
are warnings (KAZOO skips them at run time). Exits 1 if any file has an error.`,
  options: {},
  async run({ positionals }, io) {
    if (positionals.length === 0) throw new UsageError('validate: give at least one file');
    const ctx = { registry: createRegistry(), validator: new SchemaValidator() };
    let failed = 0;
    for (const file of positionals) {
      const read = readJsonFile(file);
      if (!read.ok) {
        // Every line below quotes file names or values from the documents: one line each, inert.
        io.err(printable(read.error.message));
        failed++;
        continue;
      }
      const kind = kindOf(read.value);
      let result: LoadResult<unknown>;
      if (kind === 'account bundle') result = loadAccountBundle(file, ctx);
      else if (kind === 'callflow') result = checkCallflow(read.value, file, '', ctx);
      else if (kind === 'scenario') result = loadScenario(file, ctx);
      else {
        io.err(`${printable(file)}: /: not a callflow ("flow"), an account bundle ("account") or a scenario ("call")`);
        failed++;
        continue;
      }
      for (const w of result.warnings) io.err(`warning: ${printable(w.toString())}`);
      if (result.ok) io.out(`ok: ${printable(file)} (${kind})`);
      else {
        for (const e of result.errors) io.err(printable(e.message));
        failed++;
      }
    }
    return failed > 0 ? 1 : 0;
  },
};
