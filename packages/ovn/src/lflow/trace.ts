/**
 * Traces shaped like ovn-trace's (utilities/ovn-trace.c, branch-23.03): a tree of nodes built while the
 * executor runs — pipelines, tables, actions, field modifications, ct transformations, outputs — printed at three
 * levels with ovn-trace's own rules: `--detailed` (every table, modifications hidden), `--summary` (tables and
 * modifications folded into their children, `next` hidden) and `--minimal` (only modifications, transformations
 * and outputs).
 * @module
 */

export const NodeType = {
  OUTPUT: 0,
  MODIFY: 1,
  ACTION: 2,
  ERROR: 3,
  PIPELINE: 4,
  TABLE: 5,
  TRANSFORMATION: 6,
} as const;

export class TraceNode {
  alwaysIndent = false;
  readonly subs: TraceNode[] = [];
  constructor(readonly type: number, readonly name: string) {}
  append(type: number, name: string): TraceNode {
    const n = new TraceNode(type, name);
    this.subs.push(n);
    return n;
  }
}

const isTerminal = (t: number): boolean => t <= NodeType.ERROR;

function details(out: string[], nodes: readonly TraceNode[], level: number): void {
  nodes.forEach((sub, i) => {
    if (sub.type === NodeType.MODIFY) return;
    const more = i !== nodes.length - 1 || sub.alwaysIndent || isTerminal(sub.type) ? 1 : 0;
    const title = sub.type === NodeType.PIPELINE || sub.type === NodeType.TRANSFORMATION;
    const pad = ' '.repeat((level + more) * 4);
    if (title) out.push('\n');
    out.push(`${pad}${sub.name}\n`);
    if (title) out.push(`${pad}${'-'.repeat(sub.name.length)}\n`);
    details(out, sub.subs, level + 2 * more);
  });
}

function clone(nodes: readonly TraceNode[]): TraceNode[] {
  return nodes.map((n) => {
    const c = new TraceNode(n.type, n.name);
    c.alwaysIndent = n.alwaysIndent;
    c.subs.push(...clone(n.subs));
    return c;
  });
}

/** Replaces every node of the given types by its children (ovntrace_node_prune_summary / _hard). */
function prune(nodes: TraceNode[], types: readonly number[]): TraceNode[] {
  const out: TraceNode[] = [];
  for (const n of nodes) {
    const subs = prune(n.subs, types);
    if (types.includes(n.type)) out.push(...subs);
    else {
      n.subs.length = 0;
      n.subs.push(...subs);
      out.push(n);
    }
  }
  return out;
}

function summary(out: string[], nodes: readonly TraceNode[], level: number): void {
  for (const sub of nodes) {
    if (sub.type === NodeType.ACTION && sub.name.startsWith('next(')) continue;
    out.push(' '.repeat(level * 4), sub.name);
    if (sub.subs.length) {
      out.push(' {\n');
      summary(out, sub.subs, level + 1);
      out.push(' '.repeat(level * 4), '}');
    }
    if (sub.type !== NodeType.ACTION) out.push(';');
    out.push('\n');
  }
}

export type TraceLevel = 'detailed' | 'summary' | 'minimal';

/** Prints a trace's root nodes at one level, exactly as ovn-trace would (after its `# microflow` line). */
export function formatTrace(roots: readonly TraceNode[], level: TraceLevel): string {
  const out: string[] = [];
  if (level === 'detailed') details(out, roots, 0);
  else if (level === 'summary') summary(out, prune(clone(roots), [NodeType.MODIFY, NodeType.TABLE]), 0);
  else summary(out, prune(clone(roots), [NodeType.ACTION, NodeType.PIPELINE, NodeType.TABLE, NodeType.OUTPUT]), 0);
  return out.join('');
}
