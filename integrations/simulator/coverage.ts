import { joinPointer } from '../../engine/documents/pointer.ts';
import type { DocumentWarning, LoadContext } from '../../engine/documents/load.ts';
import type { CallflowDoc, FlowNode, LoadedCallflow } from '../../engine/documents/types.ts';
import { DocumentError } from '../../engine/errors.ts';
import type { Db } from '../sqlite/open-database.ts';
import { loadScenario, type AccountCache } from './load-scenario.ts';

/**
 * Branch coverage of one callflow document by recorded executions: which nodes ran, which
 * child keys (edges) were taken, and what no execution reached. Nodes are named by their JSON
 * pointer in the document (/flow, /flow/children/<key>, ...), exactly as steps.node_path names them.
 */

/** An edge of the tree: the child `key` of the node at `from`. */
export interface TreeEdge {
  readonly from: string;
  readonly key: string;
  /** The child node's path; null when the child is `{}` (reaching it stops the callflow). */
  readonly to: string | null;
}

export interface TreeNode {
  readonly path: string;
  readonly module: string;
  readonly depth: number;
  /** The edges out of this node, in document order. */
  readonly edges: readonly TreeEdge[];
}

/** The document's nodes in pre-order (a node, then each child's subtree in key order). */
export function callflowTree(doc: CallflowDoc): TreeNode[] {
  const nodes: TreeNode[] = [];
  const walk = (node: FlowNode, path: string, depth: number): void => {
    const edges: TreeEdge[] = [];
    const self: TreeNode = { path, module: String(node.module), depth, edges };
    nodes.push(self);
    for (const [key, child] of Object.entries(node.children ?? {})) {
      const isNode = child !== null && typeof child === 'object' && 'module' in child;
      const to = isNode ? joinPointer(path, 'children', key) : null;
      edges.push({ from: path, key, to });
      if (isNode) walk(child as FlowNode, to!, depth + 1);
    }
  };
  walk(doc.flow, joinPointer('', 'flow'), 0);
  return nodes;
}

export interface EdgeCoverage extends TreeEdge {
  /** Steps at `from` that took this child key (steps.child_key). */
  readonly taken: number;
  /**
   * Entries into the child that no child_key records: a `callflow` node's "_" child runs when
   * the branched-into flow stops, as a return, not as a choice of the node's step.
   */
  readonly returns: number;
  readonly reached: boolean;
}

export interface NodeCoverage {
  readonly path: string;
  readonly module: string;
  readonly depth: number;
  /** Distinct executions with at least one step at this node. */
  readonly executions: number;
  /** Steps at this node (a node visited twice in one call, through a loop, counts twice). */
  readonly visits: number;
  /** Steps per outcome (continue, attempt, stop, branch, wait, skipped, unknown_module, error). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly reached: boolean;
  readonly edges: readonly EdgeCoverage[];
}

export type UnreachedItem =
  | { readonly kind: 'node'; readonly path: string; readonly module: string }
  | { readonly kind: 'edge'; readonly from: string; readonly key: string; readonly to: string };

export interface CoverageReport {
  readonly callflowId: string;
  readonly file: string;
  readonly revision: string;
  /** Executions counted (those asked for that exist in the step log). */
  readonly executions: number;
  /** Pre-order, as the tree is drawn. */
  readonly nodes: readonly NodeCoverage[];
  /** Nodes and edges to nodes that no execution reached, in tree order (an edge before its node). */
  readonly unreached: readonly UnreachedItem[];
  /** Reached nodes + reached edges whose child is a node. */
  readonly covered: number;
  /** Nodes + edges whose child is a node (edges to `{}` are shown but not counted). */
  readonly total: number;
  /** covered / total * 100, unrounded. */
  readonly percent: number;
  /** Steps of this callflow at paths the document does not have (another revision ran). */
  readonly strays: readonly { readonly path: string; readonly visits: number }[];
}

/**
 * Whether a report reaches `--min` percent. Not on the bare floats: 119 of 125 is 95.1999...
 * and must pass --min 95.2, which is what the report prints.
 */
export const reachesMin = (report: Pick<CoverageReport, 'percent'>, min: number): boolean => shownPercent(report.percent) >= min;

/** The percentage as printed: one decimal, rounded down (a 71.43% it does not show cannot meet --min 71.42). */
const shownPercent = (p: number): number => Math.floor(p * 10 + 1e-9) / 10;

/** Coverage percentage for display: one decimal, rounded down so it never overstates. */
export const formatPercent = (p: number): string => `${shownPercent(p).toFixed(1)}%`;

/**
 * Counts, from the step log, how the executions `executionIds` went through `callflow`: only
 * steps whose callflow_id is the callflow's id (so the flows it branches into are left out,
 * and a branch back into itself counts).
 */
export function coverageFromStepLog(db: Db, callflow: LoadedCallflow, executionIds: readonly string[]): CoverageReport {
  const id = callflow.doc.id;
  const seqs = (
    db.prepare('SELECT seq FROM executions WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(executionIds)) as {
      seq: number;
    }[]
  ).map((r) => r.seq);
  const where = 'callflow_id = ? AND execution_seq IN (SELECT value FROM json_each(?))';
  const args = [id, JSON.stringify(seqs)];
  const perNode = db
    .prepare(`SELECT node_path, COUNT(*) AS visits, COUNT(DISTINCT execution_seq) AS executions FROM steps WHERE ${where} GROUP BY node_path`)
    .all(...args) as { node_path: string; visits: number; executions: number }[];
  const perOutcome = db
    .prepare(`SELECT node_path, outcome, COUNT(*) AS n FROM steps WHERE ${where} GROUP BY node_path, outcome`)
    .all(...args) as { node_path: string; outcome: string | null; n: number }[];
  const perKey = db
    .prepare(`SELECT node_path, child_key, COUNT(*) AS n FROM steps WHERE ${where} AND child_key IS NOT NULL GROUP BY node_path, child_key`)
    .all(...args) as { node_path: string; child_key: string; n: number }[];
  return computeCoverage(callflow, seqs.length, perNode, perOutcome, perKey);
}

/** The counting itself, from per-node aggregates of the steps table. */
export function computeCoverage(
  callflow: LoadedCallflow,
  executions: number,
  perNode: readonly { node_path: string; visits: number; executions: number }[],
  perOutcome: readonly { node_path: string; outcome: string | null; n: number }[],
  perKey: readonly { node_path: string; child_key: string; n: number }[],
): CoverageReport {
  const tree = callflowTree(callflow.doc);
  const known = new Set(tree.map((n) => n.path));
  const visits = new Map(perNode.map((r) => [r.node_path, r]));
  const outcomes = new Map<string, Record<string, number>>();
  for (const r of perOutcome) {
    const o = outcomes.get(r.node_path) ?? {};
    o[r.outcome ?? 'unfinished'] = (o[r.outcome ?? 'unfinished'] ?? 0) + r.n;
    outcomes.set(r.node_path, o);
  }
  const taken = new Map(perKey.map((r) => [`${r.node_path}\u0000${r.child_key}`, r.n]));

  const nodes: NodeCoverage[] = tree.map((n) => {
    const v = visits.get(n.path);
    const edges = n.edges.map((e): EdgeCoverage => {
      const t = taken.get(`${e.from}\u0000${e.key}`) ?? 0;
      const entered = e.to === null ? 0 : (visits.get(e.to)?.visits ?? 0);
      const returns = Math.max(0, entered - t);
      return { ...e, taken: t, returns, reached: t + returns > 0 };
    });
    return {
      path: n.path,
      module: n.module,
      depth: n.depth,
      executions: v?.executions ?? 0,
      visits: v?.visits ?? 0,
      outcomes: outcomes.get(n.path) ?? {},
      reached: (v?.visits ?? 0) > 0,
      edges,
    };
  });

  const byPath = new Map(nodes.map((n) => [n.path, n]));
  const unreached: UnreachedItem[] = [];
  let covered = 0;
  let total = 0;
  const walk = (n: NodeCoverage): void => {
    total++;
    if (n.reached) covered++;
    else unreached.push({ kind: 'node', path: n.path, module: n.module });
    for (const e of n.edges) {
      if (e.to === null) continue;
      total++;
      if (e.reached) covered++;
      else unreached.push({ kind: 'edge', from: e.from, key: e.key, to: e.to });
      walk(byPath.get(e.to)!);
    }
  };
  walk(nodes[0]!);

  const strays = perNode
    .filter((r) => !known.has(r.node_path))
    .map((r) => ({ path: r.node_path, visits: r.visits }))
    .sort((a, b) => a.path.localeCompare(b.path));
  return {
    callflowId: callflow.doc.id,
    file: callflow.file,
    revision: callflow.revision,
    executions,
    nodes,
    unreached,
    covered,
    total,
    percent: total === 0 ? 100 : (covered / total) * 100,
    strays,
  };
}

/**
 * Checks, before anything runs, that each scenario exercises `callflow`: through its own
 * `callflow` field, or by the account routing its `call.to`, to the same revision of the
 * document. Those that do not (or do not load) are returned as problems, each naming the
 * scenario file and the place.
 */
export function scenariosForCallflow(
  callflow: LoadedCallflow,
  files: readonly string[],
  ctx: LoadContext,
): { runnable: string[]; problems: DocumentError[]; warnings: DocumentWarning[] } {
  const cache: AccountCache = new Map();
  const runnable: string[] = [];
  const problems: DocumentError[] = [];
  const warnings: DocumentWarning[] = [];
  const id = callflow.doc.id;
  for (const file of files) {
    const loaded = loadScenario(file, ctx, cache);
    warnings.push(...loaded.warnings);
    if (!loaded.ok) {
      problems.push(...loaded.errors);
      continue;
    }
    const sc = loaded.value.scenario;
    let target: LoadedCallflow | undefined;
    let at: string;
    if (loaded.value.callflow) {
      target = loaded.value.callflow;
      at = '/callflow';
    } else {
      at = '/call/to';
      const route = loaded.value.account.router.route(sc.call.to ?? '');
      if (!route) {
        problems.push(new DocumentError(file, at, `no callflow of the account routes "${sc.call.to ?? ''}", so "${id}" does not run`));
        continue;
      }
      target = route.callflow;
    }
    if (target.doc.id !== id) {
      problems.push(new DocumentError(file, at, `runs callflow "${target.doc.id}" (${target.file}), not "${id}"`));
      continue;
    }
    if (target.revision !== callflow.revision) {
      problems.push(
        new DocumentError(
          file,
          at,
          `runs revision ${target.revision} of "${id}" (${target.file}), not the one in ${callflow.file} (${callflow.revision})`,
        ),
      );
      continue;
    }
    runnable.push(file);
  }
  return { runnable, problems, warnings };
}
