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
