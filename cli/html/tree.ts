import type { CallflowDoc, FlowNode } from '../../engine/documents/types.ts';
import type { ExecutionDetail } from '../../integrations/sqlite/trace-queries.ts';

/**
 * The callflow tree an execution walked, rebuilt from its step rows (node_path JSON pointers,
 * callflow_id, parent_seq) and, when the documents are at hand, laid over the full documents so
 * the nodes the call never reached can be drawn too.
 *
 * One `Instance` per run of a callflow: the root flow (parent_seq null) and one per branch into
 * another callflow (parent_seq = the step that branched). Within one instance a node is visited
 * at most once (the walk only goes down, and a branch's return lands on a deeper "_" child), but
 * nothing here relies on it: a node keeps every step recorded at its path.
 */

export interface TreeNode {
  readonly id: number;
  /** The child key on the edge from the parent (null at an instance's root). */
  readonly key: string | null;
  readonly kind: 'node' | 'empty';
  module: string;
  readonly path: string;
  readonly callflowId: string;
  /** The node's data in the document (defaults filled), when a document was given. */
  readonly docData: unknown;
  /** Present in the document given (false: known only from the step log). */
  readonly inDoc: boolean;
  /** The document's module here when the step log ran a different one (the document changed). */
  docModule: string | null;
  /** Indexes into `detail.steps`. */
  readonly steps: number[];
  readonly children: TreeNode[];
  /** Callflows this node branched into. */
  readonly subflows: Instance[];
}

export interface Instance {
  readonly callflowId: string;
  readonly parentSeq: number | null;
  readonly root: TreeNode;
  readonly byPath: Map<string, TreeNode>;
  readonly fromDoc: boolean;
  readonly stepIdx: number[];
}

export interface TreeDocument {
  readonly doc: CallflowDoc;
  /** Hash of the document as written, comparable with executions.callflow_revision. */
  readonly revision?: string;
  readonly file?: string;
}

export interface Tree {
  readonly root: Instance | null;
  /** Instances whose branching step is missing from the log (a damaged log): drawn on their own. */
  readonly orphans: Instance[];
  readonly nodes: TreeNode[];
  /** Node id of each step, by step index. */
  readonly stepNode: number[];
  /** Child keys each node's steps took, by node id (for the highlighted edges). */
  readonly taken: (Set<string> | undefined)[];
}

const CHILDREN = '/children/';

const escapeKey = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapePointer = (s: string): string => (s.includes('~') ? s.replace(/~1/g, '/').replace(/~0/g, '~') : s);

/** Parent pointer and child key of `/…/children/KEY`, or null for a root or a malformed pointer. */
function splitPath(path: string): { parent: string; key: string } | null {
  const i = path.lastIndexOf(CHILDREN);
  if (i < 0) return null;
  const rawKey = path.slice(i + CHILDREN.length);
  if (rawKey.includes('/')) return null;
  return { parent: path.slice(0, i), key: unescapePointer(rawKey) };
}

export function buildTree(d: ExecutionDetail, docs: readonly TreeDocument[] = []): Tree {
  const docById = new Map<string, CallflowDoc>();
  for (const t of docs) if (!docById.has(t.doc.id)) docById.set(t.doc.id, t.doc);

  const nodes: TreeNode[] = [];
  const makeNode = (n: Omit<TreeNode, 'id' | 'steps' | 'children' | 'subflows' | 'docModule'>): TreeNode => {
    // Written out (not spread) so every node has the same shape: a big call has tens of thousands.
    const node: TreeNode = {
      id: nodes.length,
      key: n.key,
      kind: n.kind,
      module: n.module,
      path: n.path,
      callflowId: n.callflowId,
      docData: n.docData,
      inDoc: n.inDoc,
      docModule: null,
      steps: [],
      children: [],
      subflows: [],
    };
    nodes.push(node);
    return node;
  };

  const makeInstance = (callflowId: string, parentSeq: number | null, hintModule: string): Instance => {
    const doc = docById.get(callflowId);
    const byPath = new Map<string, TreeNode>();
    let root: TreeNode;
    if (doc && doc.flow && typeof doc.flow === 'object') {
      root = makeNode({ key: null, kind: 'node', module: String(doc.flow.module), path: '/flow', callflowId, docData: doc.flow.data, inDoc: true });
      byPath.set('/flow', root);
      // Iterative: a document may be deep.
      const stack: [FlowNode, TreeNode][] = [[doc.flow, root]];
      while (stack.length > 0) {
        const [fn, tn] = stack.pop()!;
        for (const [key, child] of Object.entries(fn.children ?? {})) {
          const path = `${tn.path}${CHILDREN}${escapeKey(key)}`;
          const isNode = child !== null && typeof child === 'object' && 'module' in child;
          const c = makeNode({
            key,
            kind: isNode ? 'node' : 'empty',
            module: isNode ? String((child as FlowNode).module) : '',
            path,
            callflowId,
            docData: isNode ? (child as FlowNode).data : undefined,
            inDoc: true,
          });
          tn.children.push(c);
          byPath.set(path, c);
          if (isNode) stack.push([child as FlowNode, c]);
        }
      }
    } else {
      root = makeNode({ key: null, kind: 'node', module: hintModule, path: '/flow', callflowId, docData: undefined, inDoc: false });
      byPath.set('/flow', root);
    }
    return { callflowId, parentSeq, root, byPath, fromDoc: Boolean(doc), stepIdx: [] };
  };

  /** The node at `path`, created (with any missing ancestors) when the document does not have it. */
  const ensure = (inst: Instance, path: string, module: string): TreeNode => {
    const found = inst.byPath.get(path);
    if (found) return found;
    const missing: { path: string; key: string }[] = [];
    let at = path;
    let parent: TreeNode | undefined;
    for (;;) {
      const split = splitPath(at);
      if (!split) {
        // Not under /flow as expected: hang it off the root under its whole pointer.
        missing.push({ path: at, key: at });
        parent = inst.root;
        break;
      }
      missing.push({ path: at, key: split.key });
      parent = inst.byPath.get(split.parent);
      if (parent) break;
      at = split.parent;
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      const m = missing[i]!;
      const c = makeNode({ key: m.key, kind: 'node', module: i === 0 ? module : '?', path: m.path, callflowId: inst.callflowId, docData: undefined, inDoc: false });
      parent.children.push(c);
      inst.byPath.set(m.path, c);
      parent = c;
    }
    return parent;
  };

  const steps = d.steps;
  const rootId = d.execution.callflow_id ?? (steps[0]?.callflow_id as string | undefined) ?? null;
  const instances = new Map<string, Instance>();
  const stepNode: number[] = [];
  const nodeOfSeq = new Map<number, TreeNode>();
  const orphans: Instance[] = [];
  let root: Instance | null = null;
  // Without steps the root is drawn only when its document is at hand (a call that never got
  // to run a node); otherwise the first step with no parent creates it.
  if (rootId !== null && (steps.length > 0 || docById.has(rootId))) {
    root = makeInstance(rootId, null, String(steps[0]?.module ?? '?'));
    instances.set(`|${rootId}`, root);
  }

  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const parentSeq = s.parent_seq === null || s.parent_seq === undefined ? null : Number(s.parent_seq);
    const cf = String(s.callflow_id ?? '');
    const ikey = `${parentSeq ?? ''}|${cf}`;
    let inst = instances.get(ikey);
    if (!inst) {
      inst = makeInstance(cf, parentSeq, String(s.module));
      instances.set(ikey, inst);
      const brancher = parentSeq === null ? undefined : nodeOfSeq.get(parentSeq);
      if (brancher) brancher.subflows.push(inst);
      else if (!root) root = inst;
      else orphans.push(inst);
    }
    const module = String(s.module);
    const node = ensure(inst, String(s.node_path), module);
    if (node.module !== module) {
      if (node.inDoc && node.docModule === null) node.docModule = node.module;
      node.module = module;
    }
    node.steps.push(i);
    inst.stepIdx.push(i);
    stepNode[i] = node.id;
    nodeOfSeq.set(Number(s.seq), node);
  }

  // The child each step took; a key with no node behind it is an empty child ({}: stop).
  const taken: (Set<string> | undefined)[] = [];
  const visitedNodes = nodes.filter((n) => n.steps.length > 0);
  for (const n of visitedNodes) {
    for (const i of n.steps) {
      const k = steps[i]!.child_key;
      if (k === null || k === undefined) continue;
      const key = String(k);
      (taken[n.id] ??= new Set()).add(key);
      if (!n.children.some((c) => c.key === key)) {
        const c = makeNode({ key, kind: 'empty', module: '', path: `${n.path}${CHILDREN}${escapeKey(key)}`, callflowId: n.callflowId, docData: undefined, inDoc: false });
        n.children.push(c);
      }
    }
  }
  return { root, orphans, nodes, stepNode, taken };
}

/** Visited: a step ran here, or (an empty child) a step took the edge to it. */
export function isVisited(t: Tree, n: TreeNode, parent: TreeNode | null): boolean {
  if (n.steps.length > 0) return true;
  return n.kind === 'empty' && parent !== null && n.key !== null && (t.taken[parent.id]?.has(n.key) ?? false);
}
