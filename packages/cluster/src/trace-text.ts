/**
 * A trace line as text, in the spirit of ovn-trace's detailed output: one block per place the frame went
 * (`node3/br-provider`, `node3/underlay-subnet`, …), its decisions indented under it (at br-provider, the
 * bridge's rules as `ofproto/trace` shows them), then the verdict, the drops and what came out.
 */
import type { TraceLine } from './outputs.js';

export function formatTraceLine(line: TraceLine): string {
  const out: string[] = [`${line.flow}`, `ingress: ${line.ingress}, time ${line.time} ms`, ''];
  let at: string | undefined;
  for (const s of line.stages) {
    if (s.at !== at) {
      at = s.at;
      out.push(`${s.at}  [${s.stage}]`);
    }
    out.push(`    ${s.decision}`);
    // The bridge's own story under its one-line decision, indented as ofproto/trace prints it.
    if (s.openflow) {
      const o = s.openflow;
      const head = `bridge("${o.bridge}"), in_port ${o.inPort}${typeof o.ofport === 'number' ? ` (ofport ${o.ofport})` : ''}`;
      out.push(`      ${head}`, `      ${'-'.repeat(head.length)}`, ...o.lines.map((l) => (l ? `      ${l}` : '')));
    }
  }
  out.push('', `verdict: ${line.verdict}`);
  for (const d of line.drops) out.push(`drop at ${d.at}: ${d.reason}`);
  for (const e of line.emitted) out.push(`emitted to ${e.to}: ${e.hex.length / 2} bytes`);
  return `${out.join('\n')}\n`;
}
