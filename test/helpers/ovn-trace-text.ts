/**
 * vippath's executor run as `ovn-trace --detailed --summary --minimal OPTS DATAPATH MICROFLOW` runs, and the two texts
 * made comparable: what the differential tests against ovn-trace (ovn-exec, ipv6-text) share.
 */
import { formatFlow, formatTrace, parseCtFlags, parseLbDst, TraceConntrack, type LflowExecutor, type TraceNode } from '@vippath/ovn';

/** Configures `ex` with ovn-trace's `--ct=FLAGS` (one per ct call, in order) and `--lb-dst=IP[:PORT]` options. */
export function configureAsOvnTrace(ex: LflowExecutor, opts: readonly string[]): void {
  const ct = new TraceConntrack(opts.filter((o) => o.startsWith('--ct=')).map((o) => parseCtFlags(o.slice(5))));
  const lbDst = opts.find((o) => o.startsWith('--lb-dst='));
  ex.configure({ ct, ...(lbDst ? { lbDst: parseLbDst(lbDst.slice(9)) } : {}) });
}

/** vippath's text of a traced microflow as ovn-trace prints it with the three formats, less their headings. */
export function oursAsOvnTrace(words: Uint32Array, trace: TraceNode): string {
  return `# ${formatFlow(words)}\n${formatTrace([trace], 'detailed')}${formatTrace([trace], 'summary')}${formatTrace([trace], 'minimal')}`;
}

/** ovn-trace's output without the three formats' headings (vippath's formatTrace prints none). */
export function realOvnTrace(out: string): string {
  return out.replace(/# (Detailed|Summary|Minimal) trace\.\n/g, '');
}

/**
 * Whether the first line where two traces differ is a table step of the same table and priority with different
 * flows whose uuids fall in one bucket under `mask` (`N. stage (source): match, priority P, uuid XXXXXXXX`).
 */
export function sharedBucketTie(a: string, b: string, mask: number): boolean {
  return bucketTiePair(a, b, mask) !== undefined;
}

/**
 * The two flows of a {@link sharedBucketTie} (their uuid prefixes, sorted, `x/y`), or undefined where the first
 * difference is not one. One such pair on a busy path (northd's uuids are random: a pair lands in one bucket now and
 * then) makes every microflow through that table tie, so a bound on ties is a bound on distinct pairs.
 */
export function bucketTiePair(a: string, b: string, mask: number): string | undefined {
  const x = a.split('\n');
  const y = b.split('\n');
  const step = /^\s*(\d+)\. (\S+) .*, priority (\d+), uuid ([0-9a-f]{8})$/;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const p = step.exec(x[i] ?? '');
    const q = step.exec(y[i] ?? '');
    if (!p || !q || p[1] !== q[1] || p[2] !== q[2] || p[3] !== q[3] || p[4] === q[4]) return undefined;
    if (((parseInt(p[4]!, 16) & mask) >>> 0) !== ((parseInt(q[4]!, 16) & mask) >>> 0)) return undefined;
    return [p[4]!, q[4]!].sort().join('/');
  }
  return undefined;
}

/**
 * The number of a `/* WORD N *\/` comment a generated flow carries (ovn-trace prints the comment with the flow, so
 * its warnings and traces name which generated flow they are about); undefined for a flow without one.
 */
export function commentNumber(text: string, word: string): number | undefined {
  const m = new RegExp(`/\\* ${word} (\\d+) \\*/`).exec(text);
  return m ? Number(m[1]) : undefined;
}
