import { AccountView } from '../../engine/call/account-view.ts';
import { besideFile, loadAccountBundle, loadCallflowFile, readJsonFile, type LoadContext, type LoadResult, type DocumentWarning } from '../../engine/documents/load.ts';
import { joinPointer } from '../../engine/documents/pointer.ts';
import type { LoadedCallflow } from '../../engine/documents/types.ts';
import { DocumentError } from '../../engine/errors.ts';
import { Router } from '../../engine/routing.ts';
import { scenarioSchema, type Scenario } from './scenario-schema.ts';

export interface LoadedAccount {
  readonly view: AccountView;
  readonly router: Router;
}

export interface LoadedScenario {
  readonly file: string;
  readonly scenario: Scenario;
  readonly account: LoadedAccount;
  readonly callflow?: LoadedCallflow;
}

/** Account bundles shared by the scenarios of one batch, loaded once per file. */
export type AccountCache = Map<string, LoadResult<LoadedAccount>>;

function loadAccount(file: string, ctx: LoadContext, cache: AccountCache): LoadResult<LoadedAccount> {
  const hit = cache.get(file);
  if (hit) return hit;
  const r = loadAccountBundle(file, ctx);
  const out: LoadResult<LoadedAccount> = r.ok
    ? { ok: true, warnings: r.warnings, value: { view: new AccountView(r.value), router: new Router(r.value.callflows) } }
    : r;
  cache.set(file, out);
  return out;
}

/**
 * An error in a file a scenario names, said through the scenario and its field, on one line: in a
 * batch, the file's own error alone does not say which scenario failed.
 */
const through = (scenarioFile: string, field: string, e: DocumentError): DocumentError => new DocumentError(scenarioFile, field, e.message);

/** Loads a scenario with the account (and callflow) it names; every problem names its file and place. */
export function loadScenario(file: string, ctx: LoadContext, cache: AccountCache = new Map()): LoadResult<LoadedScenario> {
  const read = readJsonFile(file);
  if (!read.ok) return { ok: false, errors: [read.error], warnings: [] };
  const scenario = structuredClone(read.value) as Scenario;
  const errors: DocumentError[] = [];
  const warnings: DocumentWarning[] = [];
  for (const p of ctx.validator.validate('scenario', scenarioSchema, scenario)) errors.push(new DocumentError(file, p.pointer, p.problem));
  if (errors.length > 0) return { ok: false, errors, warnings };
  if (Number.isNaN(Date.parse(scenario.start_time))) {
    errors.push(new DocumentError(file, '/start_time', 'must be an ISO date-time'));
  }
  if (!scenario.callflow && !scenario.call.to) {
    errors.push(new DocumentError(file, '/call', 'needs "to" (a number to route) unless the scenario names a "callflow"'));
  }
  const account = loadAccount(besideFile(file, scenario.account), ctx, cache);
  warnings.push(...account.warnings);
  if (!account.ok) return { ok: false, errors: [...errors, ...account.errors.map((e) => through(file, '/account', e))], warnings };

  let callflow: LoadedCallflow | undefined;
  if (scenario.callflow) {
    const cf = loadCallflowFile(besideFile(file, scenario.callflow), ctx);
    warnings.push(...cf.warnings);
    if (cf.ok) callflow = cf.value;
    else errors.push(...cf.errors.map((e) => through(file, '/callflow', e)));
  }
  const view = account.value.view;
  if (scenario.call.device && !view.device(scenario.call.device)) {
    errors.push(new DocumentError(file, '/call/device', `no device "${scenario.call.device}" in the account`));
  }
  for (const id of Object.keys(scenario.devices)) {
    if (!view.device(id)) errors.push(new DocumentError(file, joinPointer('', 'devices', id), `no device "${id}" in the account`));
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  return {
    ok: true,
    warnings,
    value: { file, scenario, account: account.value, ...(callflow ? { callflow } : {}) },
  };
}
