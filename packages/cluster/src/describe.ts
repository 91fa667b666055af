/**
 * One line per frame, the way people talk about packets: `tcp 10.180.204.100:41234 > 10.180.204.252:80 [S]
 * vlan 341`, `arp who-has 10.180.204.252 tell 10.180.204.100`. Used as the `flow` of trace lines, so it must be
 * stable: tests and the report search on it.
 */
import { DecodedFrame, DecodeStatus, FrameDecoder, formatIPv4, formatIPv6, formatMac, L3 } from '@vippath/wire';

const decoder = new FrameDecoder();
const d = new DecodedFrame();

const TCP_FLAGS = [
  [0x02, 'S'],
  [0x01, 'F'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
] as const;

function tcpFlags(f: number): string {
  let s = '';
  for (const [bit, c] of TCP_FLAGS) if (f & bit) s += c;
  return s || 'none';
}

/** The frame in one line. */
export function describeFrame(frame: Uint8Array): string {
  decoder.decode(frame, d);
  const vlans: string[] = [];
  for (let i = 0; i < d.vlanCount; i++) vlans.push(String(d.vid(i)));
  const tag = vlans.length ? ` vlan ${vlans.join('.')}` : '';
  if (d.status !== DecodeStatus.OK && d.l3 === L3.NONE) return `malformed (${d.errorReason})${tag}`;
  const bad = d.status !== DecodeStatus.OK ? ` malformed (${d.errorReason})` : '';
  if (d.l3 === L3.ARP) {
    const spa = formatIPv4(d.arpSpa);
    const tpa = formatIPv4(d.arpTpa);
    if (d.arpOp === 1) return `arp who-has ${tpa} tell ${spa}${spa === tpa ? ' (gratuitous)' : ''}${tag}${bad}`;
    if (d.arpOp === 2) return `arp reply ${spa} is-at ${formatMac(frame, d.l3Offset + 8)}${tag}${bad}`;
    return `arp op ${d.arpOp}${tag}${bad}`;
  }
  if (d.l3 === L3.IPV4 || d.l3 === L3.IPV6) {
    const v6 = d.l3 === L3.IPV6;
    const src = v6 ? formatIPv6(frame, d.l3Offset + 8) : formatIPv4(d.ipSrc);
    const dst = v6 ? formatIPv6(frame, d.l3Offset + 24) : formatIPv4(d.ipDst);
    const hp = (ip: string, port: number): string => (v6 ? `[${ip}]:${port}` : `${ip}:${port}`);
    if (d.l4Offset >= 0 && d.ipProto === 6) return `tcp ${hp(src, d.srcPort)} > ${hp(dst, d.dstPort)} [${tcpFlags(d.tcpFlags)}]${d.payloadLength > 0 ? ` len ${d.payloadLength}` : ''}${tag}${bad}`;
    if (d.l4Offset >= 0 && d.ipProto === 17) return `udp ${hp(src, d.srcPort)} > ${hp(dst, d.dstPort)}${tag}${bad}`;
    if (d.l4Offset >= 0 && (d.ipProto === 1 || d.ipProto === 58)) return `${v6 ? 'icmp6' : 'icmp'} ${src} > ${dst} type ${d.icmpType} code ${d.icmpCode}${tag}${bad}`;
    return `${v6 ? 'ip6' : 'ip'} ${src} > ${dst} proto ${d.ipProto}${d.ipFragment ? ' fragment' : ''}${tag}${bad}`;
  }
  return `ethertype 0x${d.etherType.toString(16).padStart(4, '0')} ${formatMac(frame, 6)} > ${formatMac(frame, 0)}${tag}${bad}`;
}
