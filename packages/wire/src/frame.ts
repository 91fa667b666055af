/**
 * Whole frames as representations: {@link parseFrame} decodes every layer into plain objects (for
 * tests, traces and the CLI — it allocates), and {@link buildFrame} builds a frame from a short
 * description, filling lengths and checksums, for tests and for the frames the simulator originates.
 */
import { ArpView, emitArp, parseArp, ARP_LENGTH, type ArpRepr } from './arp.js';
import { internetChecksum, pseudoHeaderSumV4At, pseudoHeaderSumV6, verifyL4Checksum, write16, type ChecksumStatus } from './checksum.js';
import { emitEthernet, ethernetHeaderLength, EthernetView, EtherType, parseEthernet, type EthernetRepr, type VlanTag } from './ethernet.js';
import { emitIcmp, icmpLength, IcmpView, parseIcmp, Icmpv6Type, type IcmpRepr } from './icmp.js';
import { emitIpv4, ipv4HeaderLength, Ipv4View, parseIpv4, IpProtocol, type Ipv4Repr } from './ipv4.js';
import { emitIpv6, ipv6HeaderLength, Ipv6View, parseIpv6, type Ipv6Repr } from './ipv6.js';
import { emitNdp, ndpLength, parseNdp, type NdpRepr } from './ndp.js';
import { emitTcp, parseTcp, tcpLength, TcpView, type TcpRepr } from './tcp.js';
import { emitUdp, parseUdp, udpLength, UdpView, type UdpRepr } from './udp.js';

/** Every layer of a frame, decoded. Absent layers are absent properties. */
export interface FrameRepr {
  eth: EthernetRepr;
  arp?: ArpRepr;
  ipv4?: Ipv4Repr;
  ipv6?: Ipv6Repr;
  tcp?: TcpRepr;
  udp?: UdpRepr;
  /** ICMPv4, or ICMPv6 other than NS/NA. */
  icmp?: IcmpRepr;
  /** ICMPv6 neighbor solicitation or advertisement. */
  ndp?: NdpRepr;
  /** Payload of an unknown EtherType or IP protocol. */
  payload?: Uint8Array;
  /** L4 checksum verdict where there is one (TCP, UDP, ICMP). */
  checksum?: ChecksumStatus;
  /** Bytes after the network-layer datagram (Ethernet padding). */
  trailerLength: number;
}

/** Decodes every layer of `frame`; throws `MalformedFrameError` naming the layer and offset. */
export function parseFrame(frame: Uint8Array): FrameRepr {
  const ethView = EthernetView.checked(frame);
  const out: FrameRepr = { eth: parseEthernet(ethView), trailerLength: 0 };
  const l3 = ethView.payloadOffset;
  const type = ethView.ethertype;
  let l3End = frame.length;
  if (type === EtherType.ARP) {
    out.arp = parseArp(ArpView.checked(frame, l3));
    l3End = l3 + ARP_LENGTH;
  } else if (type === EtherType.IPv4) {
    const ip = Ipv4View.checked(frame, l3);
    out.ipv4 = parseIpv4(ip);
    l3End = l3 + ip.totalLength;
    const fragmentOffset = out.ipv4.fragmentOffset;
    const pseudo = pseudoHeaderSumV4At(frame, l3, ip.protocol, ip.payloadLength);
    if (fragmentOffset === 0 && !out.ipv4.moreFragments) decodeL4(frame, ip.protocol, ip.payloadOffset, ip.payloadLength, pseudo, false, out);
    else out.payload = frame.slice(ip.payloadOffset, l3End);
  } else if (type === EtherType.IPv6) {
    const ip = Ipv6View.checked(frame, l3);
    out.ipv6 = parseIpv6(ip);
    l3End = ip.end;
    const len = ip.end - ip.walk.upperOffset;
    if (!ip.walk.fragmented) {
      const pseudo = pseudoHeaderSumV6(frame, l3 + 8, l3 + 24, ip.walk.protocol, len);
      decodeL4(frame, ip.walk.protocol, ip.walk.upperOffset, len, pseudo, true, out);
    } else out.payload = frame.slice(ip.walk.upperOffset, ip.end);
  } else {
    out.payload = frame.slice(l3);
  }
  out.trailerLength = frame.length - l3End;
  return out;
}

function decodeL4(frame: Uint8Array, proto: number, off: number, len: number, pseudo: number, v6: boolean, out: FrameRepr): void {
  if (proto === IpProtocol.TCP) {
    out.tcp = parseTcp(TcpView.checked(frame, off, len));
    out.checksum = verifyL4Checksum(frame, off, len, off + 16, pseudo);
  } else if (proto === IpProtocol.UDP) {
    const udp = UdpView.checked(frame, off, len);
    out.udp = parseUdp(udp);
    const stored = (frame[off + 6]! << 8) | frame[off + 7]!;
    out.checksum = !v6 && stored === 0 ? 'none' : verifyL4Checksum(frame, off, udp.length, off + 6, pseudo);
  } else if (proto === IpProtocol.ICMP && !v6) {
    out.icmp = parseIcmp(IcmpView.checked(frame, off, len, 'icmpv4'));
    out.checksum = verifyL4Checksum(frame, off, len, off + 2, 0);
  } else if (proto === IpProtocol.ICMPV6 && v6) {
    const view = IcmpView.checked(frame, off, len, 'icmpv6');
    if (view.type === Icmpv6Type.NEIGHBOR_SOLICIT || view.type === Icmpv6Type.NEIGHBOR_ADVERT) out.ndp = parseNdp(frame, off, len);
    else out.icmp = parseIcmp(view);
    out.checksum = verifyL4Checksum(frame, off, len, off + 2, pseudo);
  } else {
    out.payload = frame.slice(off, off + len);
  }
}

/** A frame to build; unspecified header fields get ordinary defaults (TTL 64, window 65535, …). */
export interface FrameSpec {
  dst: string;
  src: string;
  /** VLAN tags, outermost first: a VID (802.1Q, PCP 0) or a full tag. */
  vlans?: Array<number | VlanTag>;
  /** EtherType when no ARP/IP layer is given. */
  ethertype?: number;
  arp?: ArpRepr;
  ipv4?: Partial<Ipv4Repr> & Pick<Ipv4Repr, 'src' | 'dst'>;
  ipv6?: Partial<Ipv6Repr> & Pick<Ipv6Repr, 'src' | 'dst'>;
  tcp?: Partial<TcpRepr> & Pick<TcpRepr, 'srcPort' | 'dstPort'>;
  udp?: Partial<UdpRepr> & Pick<UdpRepr, 'srcPort' | 'dstPort'>;
  icmp?: IcmpRepr;
  ndp?: NdpRepr;
  /** Payload after the last header given (for unknown EtherTypes, or raw IP payloads). */
  payload?: Uint8Array;
  /** Pad with zeros to at least this many bytes (60 = the Ethernet minimum without FCS). */
  padTo?: number;
}

const EMPTY = new Uint8Array(0);

/** Builds the bytes of a frame with correct lengths and checksums. */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const vlans: VlanTag[] = (spec.vlans ?? []).map((v) => (typeof v === 'number' ? { tpid: EtherType.VLAN, pcp: 0, dei: 0, vid: v } : v));
  const tcp: TcpRepr | undefined = spec.tcp && { seq: 0, ack: 0, flags: 0x002, window: 65535, urgent: 0, options: EMPTY, payload: EMPTY, ...spec.tcp };
  const udp: UdpRepr | undefined = spec.udp && { payload: EMPTY, ...spec.udp };
  const l4Len = tcp ? tcpLength(tcp) : udp ? udpLength(udp) : spec.icmp ? icmpLength(spec.icmp) : spec.ndp ? ndpLength(spec.ndp) : (spec.payload?.length ?? 0);
  const protocol = tcp ? IpProtocol.TCP : udp ? IpProtocol.UDP : spec.ndp ? IpProtocol.ICMPV6 : spec.icmp ? (spec.ipv6 ? IpProtocol.ICMPV6 : IpProtocol.ICMP) : IpProtocol.IPV6_NONXT;
  const ipv4: Ipv4Repr | undefined = spec.ipv4 && {
    tos: 0, ident: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol, options: EMPTY, payloadLength: l4Len, ...spec.ipv4,
  };
  const ipv6: Ipv6Repr | undefined = spec.ipv6 && {
    trafficClass: 0, flowLabel: 0, hopLimit: 64, extensions: [], protocol, payloadLength: l4Len, ...spec.ipv6,
  };
  const ethertype = spec.arp ? EtherType.ARP : ipv4 ? EtherType.IPv4 : ipv6 ? EtherType.IPv6 : (spec.ethertype ?? 0x88b5);
  const eth: EthernetRepr = { dst: spec.dst, src: spec.src, vlans, ethertype };
  const l3Len = spec.arp ? ARP_LENGTH : ipv4 ? ipv4HeaderLength(ipv4) + l4Len : ipv6 ? ipv6HeaderLength(ipv6) + l4Len : (spec.payload?.length ?? 0);
  const used = ethernetHeaderLength(eth) + l3Len;
  const frame = new Uint8Array(Math.max(used, spec.padTo ?? 0));
  let at = emitEthernet(eth, frame, 0);
  if (spec.arp) {
    emitArp(spec.arp, frame, at);
    return frame;
  }
  if (!ipv4 && !ipv6) {
    if (spec.payload) frame.set(spec.payload, at);
    return frame;
  }
  const l3 = at;
  at = ipv4 ? emitIpv4(ipv4, frame, at) : emitIpv6(ipv6!, frame, at);
  const pseudo = ipv4 ? pseudoHeaderSumV4At(frame, l3, ipv4.protocol, l4Len) : pseudoHeaderSumV6(frame, l3 + 8, l3 + 24, ipv6!.protocol, l4Len);
  if (tcp) emitTcp(tcp, frame, at, pseudo);
  else if (udp) emitUdp(udp, frame, at, pseudo);
  else if (spec.icmp) emitIcmp(spec.icmp, frame, at, ipv6 ? pseudo : 0);
  else if (spec.ndp) {
    emitNdp(spec.ndp, frame, at);
    write16(frame, at + 2, internetChecksum(frame, at, l4Len, pseudo));
  } else if (spec.payload) frame.set(spec.payload, at);
  return frame;
}
