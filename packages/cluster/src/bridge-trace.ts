/**
 * br-provider's own record of one visit, carried into the cluster's trace: the rule of every table the frame
 * went through (cookie, priority, match, actions), what NORMAL decided, and the resulting datapath actions —
 * what `ovs-appctl ofproto/trace br-provider <flow>` prints for the same packet. Built only when tracing.
 */
import { Port, type ProcessResult, type TraceStep as BridgeStep } from '@vippath/openflow';
import { DecodedFrame, FrameDecoder, formatIPv4, L3 } from '@vippath/wire';
import type { BridgeRuleHit, BridgeTrace } from './outputs.js';

const decoder = new FrameDecoder();
const before = new DecodedFrame();
const after = new DecodedFrame();

function mac(b: Uint8Array, at: number): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(b[at + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}

function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ai + i] !== b[bi + i]) return false;
  return true;
}

/**
 * The header edits between what came in (or the previous output) and what went out, in the datapath's words and
 * in the order ovs-vswitchd commits them before an output (lib/odp-util.c commit_odp_actions: Ethernet, then IPv4,
 * then the transport ports, then the VLAN tag; a changed tag is popped and pushed again).
 */
function edits(from: Uint8Array, to: Uint8Array): string[] {
  const out: string[] = [];
  decoder.decode(from, before);
  decoder.decode(to, after);
  const eth: string[] = [];
  if (from.length >= 12 && to.length >= 12) {
    if (!sameBytes(from, 6, to, 6, 6)) eth.push(`src=${mac(to, 6)}`);
    if (!sameBytes(from, 0, to, 0, 6)) eth.push(`dst=${mac(to, 0)}`);
  }
  if (eth.length) out.push(`set(eth(${eth.join(',')}))`);
  if (before.l3 === L3.IPV4 && after.l3 === L3.IPV4) {
    const ip: string[] = [];
    if (before.ipSrc !== after.ipSrc) ip.push(`src=${formatIPv4(after.ipSrc)}`);
    if (before.ipDst !== after.ipDst) ip.push(`dst=${formatIPv4(after.ipDst)}`);
    // The mask is the part of the byte an action writes: mod_nw_tos the DSCP bits, mod_nw_ecn the ECN bits.
    const tosDiff = before.ipTos ^ after.ipTos;
    if (tosDiff) ip.push(`tos=0x${after.ipTos.toString(16)}/0x${((tosDiff & 0xfc ? 0xfc : 0) | (tosDiff & 0x03 ? 0x03 : 0)).toString(16)}`);
    if (before.ipTtl !== after.ipTtl) ip.push(`ttl=${after.ipTtl}`);
    if (ip.length) out.push(`set(ipv4(${ip.join(',')}))`);
    if (before.ipProto === after.ipProto && (after.ipProto === 6 || after.ipProto === 17) && before.l4Offset >= 0 && after.l4Offset >= 0) {
      const ports: string[] = [];
      if (before.srcPort !== after.srcPort) ports.push(`src=${after.srcPort}`);
      if (before.dstPort !== after.dstPort) ports.push(`dst=${after.dstPort}`);
      if (ports.length) out.push(`set(${after.ipProto === 6 ? 'tcp' : 'udp'}(${ports.join(',')}))`);
    }
  }
  const push = (): string => `push_vlan(vid=${after.vid(0)},pcp=${after.vlanTci[0]! >> 13})`;
  if (after.vlanCount > before.vlanCount) out.push(push());
  else if (after.vlanCount < before.vlanCount) out.push('pop_vlan');
  else if (after.vlanCount > 0 && after.vlanTci[0] !== before.vlanTci[0]) out.push('pop_vlan', push());
  return out;
}

/**
 * One bridge visit as a {@link BridgeTrace}. `portName` names an ofport (`LOCAL` included); `frame` is the
 * packet as it entered, `steps` what {@link Bridge.process} recorded, `result` what left.
 */
export function bridgeTrace(bridge: string, inPort: number, portName: (p: number) => string, frame: Uint8Array, steps: readonly BridgeStep[], result: ProcessResult): BridgeTrace {
  const rules: BridgeRuleHit[] = [];
  const lines: string[] = [];
  const pad = (n: number | undefined, fallback: number): string => ' '.repeat(n ?? fallback);
  for (const s of steps) {
    switch (s.kind) {
      case 'lookup': {
        // As ovs-vswitchd 3.1 prints a table's rule: the match (nothing for a match-all rule), the priority, and
        // the cookie only when it is not zero; a nested table indented under the resubmit that called it.
        const match = s.flow === '(match all)' ? '' : s.flow;
        rules.push({ table: s.table, cookie: s.cookie, priority: s.priority, match, actions: [] });
        const head = `${pad(s.indent, 0)}${String(s.table).padStart(2)}.`;
        if (match === null) lines.push(`${head} No match.`, `${pad(s.actionIndent, 4)}drop`);
        else lines.push(`${head} ${match ? `${match}, ` : ''}priority ${s.priority}${s.cookie === '0x0' ? '' : `, cookie ${s.cookie}`}`);
        break;
      }
      case 'action': {
        // The rule that runs this action is the latest lookup of its table (a resubmit returns to it).
        for (let i = rules.length - 1; i >= 0; i--) {
          if (rules[i]!.table === s.table && rules[i]!.match !== null) {
            rules[i]!.actions.push(s.action);
            break;
          }
        }
        lines.push(`${pad(s.indent, 4)}${s.action}`);
        break;
      }
      case 'normal':
        lines.push(`${pad(s.indent, 5)}-> ${s.decision}`);
        break;
      case 'output':
        // ofproto/trace says nothing at an output to a plain port: the datapath actions list where copies went.
        break;
      case 'drop':
        // "no output" is the datapath actions' `drop`, which ofproto/trace does not repeat in the tables.
        if (s.reason !== 'no output') lines.push(`${pad(s.indent, 5)}>> ${s.reason}`);
        break;
    }
  }
  const actions: string[] = [];
  let last = frame;
  for (const o of result.outputs) {
    actions.push(...edits(last, o.packet), portName(o.port));
    last = o.packet;
  }
  for (let i = 0; i < result.controller; i++) actions.push('userspace(controller)');
  const datapathActions = actions.length ? actions.join(',') : 'drop';
  lines.push('', `Datapath actions: ${datapathActions}`);
  return { bridge, inPort: portName(inPort), ofport: inPort === Port.LOCAL ? 'LOCAL' : inPort, rules, lines, datapathActions };
}
