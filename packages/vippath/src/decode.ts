/**
 * Decoding captures for people and tools: every record becomes a {@link DecodedRecord} whose `layers`
 * use Wireshark's field names, formatted as `tshark -T fields` prints them, so that vippath's decode can
 * be checked against tshark's field by field.
 */
import { linkHeaderLength, linkProtocol, linktypeName, LinkType, openCapture, type CaptureReader, type CaptureSource, type ReaderOptions } from '@vippath/pcap';
import { DecodedFrame, DecodeStatus, FrameDecoder, formatIPv4, formatIPv6Ntop, formatMac, L3, type Layer } from '@vippath/wire';

/** Field values as tshark prints them; multi-occurrence fields (VLAN IDs) are lists, outermost first. */
export type Layers = Record<string, string | string[]>;

/** One decoded capture record. */
export interface DecodedRecord {
  /** 1-based, like tshark's `frame.number`. */
  index: number;
  /** Nanoseconds since the epoch, as a decimal string (exceeds a JSON number's precision). */
  timestamp: string;
  /** Interface name when the capture records one, else its index. */
  interface: string | number;
  linktype: string;
  captureLength: number;
  originalLength: number;
  layers: Layers;
  /** Present when the frame is malformed: the layers before `layer` are still decoded. */
  error?: { layer: Layer | 'link'; offset: number; reason: string };
}

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/**
 * Fills `layers` from a decoded frame. VLAN tags: tshark's `vlan` dissector handles the 802.1Q TPIDs
 * (0x8100, and 0x9100 by its QinQ preference), its `ieee8021ad` dissector the 802.1ad TPID 0x88a8, so
 * their IDs appear under `vlan.id` and `ieee8021ad.id` respectively — as in tshark.
 */
export function layersOf(frame: Uint8Array, d: DecodedFrame, ethernet: boolean): Layers {
  const layers: Layers = {};
  if (ethernet && d.length >= 14) {
    layers['eth.dst'] = formatMac(frame, 0);
    layers['eth.src'] = formatMac(frame, 6);
    layers['eth.type'] = hex4(d.outerEtherType);
    const q: string[] = [];
    const ad: string[] = [];
    for (let i = 0; i < d.vlanCount; i++) (d.vlanTpid[i] === 0x88a8 ? ad : q).push(String(d.vid(i)));
    if (q.length) layers['vlan.id'] = q;
    if (ad.length) layers['ieee8021ad.id'] = ad;
  }
  const ok = (layer: Layer): boolean => d.status === DecodeStatus.OK || d.errorLayer !== layer;
  if (d.l3 === L3.ARP && ok('arp')) {
    const o = d.l3Offset;
    layers['arp.opcode'] = String(d.arpOp);
    layers['arp.src.hw_mac'] = formatMac(frame, o + 8);
    layers['arp.src.proto_ipv4'] = formatIPv4(d.arpSpa);
    layers['arp.dst.hw_mac'] = formatMac(frame, o + 18);
    layers['arp.dst.proto_ipv4'] = formatIPv4(d.arpTpa);
  } else if (d.l3 === L3.IPV4 && ok('ipv4')) {
    layers['ip.src'] = formatIPv4(d.ipSrc);
    layers['ip.dst'] = formatIPv4(d.ipDst);
    layers['ip.proto'] = String(d.ipProto);
  } else if (d.l3 === L3.IPV6 && ok('ipv6')) {
    // tshark's text: inet_ntop's (`::10.0.0.1`, `::ffff:10.0.0.2`), not RFC 5952's (test/tshark-decode.test.ts).
    layers['ipv6.src'] = formatIPv6Ntop(frame, d.l3Offset + 8);
    layers['ipv6.dst'] = formatIPv6Ntop(frame, d.l3Offset + 24);
    layers['ipv6.nxt'] = String(frame[d.l3Offset + 6]);
  }
  if (d.l4Offset >= 0) {
    if (d.ipProto === 6) {
      layers['tcp.srcport'] = String(d.srcPort);
      layers['tcp.dstport'] = String(d.dstPort);
      // tshark's tcp.flags is the 12 bits after the data offset (reserved bits included).
      layers['tcp.flags'] = hex4(((frame[d.l4Offset + 12]! << 8) | frame[d.l4Offset + 13]!) & 0x0fff);
    } else if (d.ipProto === 17) {
      layers['udp.srcport'] = String(d.srcPort);
      layers['udp.dstport'] = String(d.dstPort);
    } else if (d.ipProto === 1 && d.l3 === L3.IPV4) {
      layers['icmp.type'] = String(d.icmpType);
    } else if (d.ipProto === 58 && d.l3 === L3.IPV6) {
      layers['icmpv6.type'] = String(d.icmpType);
    }
  }
  return layers;
}

/** Options of {@link decodeCapture}. */
export interface DecodeOptions extends ReaderOptions {}

/** An async iterable of decoded records that also exposes the underlying reader's counts. */
export interface DecodedCapture extends AsyncIterable<DecodedRecord> {
  readonly reader: CaptureReader;
}

/** Decodes every record of a capture (path, `-` for stdin, or a Readable). */
export function decodeCapture(source: CaptureSource, options: DecodeOptions = {}): DecodedCapture {
  const reader = openCapture(source, options);
  const decoder = new FrameDecoder();
  const d = new DecodedFrame();
  return {
    reader,
    async *[Symbol.asyncIterator]() {
      let index = 0;
      for await (const rec of reader) {
        index++;
        const ethernet = rec.linktype === LinkType.EN10MB;
        let status: number;
        let linkError = false;
        if (ethernet) status = decoder.decode(rec.data, d);
        else {
          const hl = linkHeaderLength(rec.linktype);
          if (rec.data.length < hl) {
            linkError = true;
            status = DecodeStatus.MALFORMED;
            decoder.decode(rec.data, d, 0);
          } else status = decoder.decodeFrom(rec.data, hl, linkProtocol(rec.linktype, rec.data), d);
        }
        const out: DecodedRecord = {
          index,
          timestamp: rec.timestamp.toString(),
          interface: rec.interfaceName ?? rec.interfaceId,
          linktype: linktypeName(rec.linktype),
          captureLength: rec.captureLength,
          originalLength: rec.originalLength,
          layers: linkError ? {} : layersOf(rec.data, d, ethernet),
        };
        if (linkError) out.error = { layer: 'link', offset: 0, reason: `shorter than the ${linkHeaderLength(rec.linktype)}-byte ${linktypeName(rec.linktype)} header` };
        else if (status !== DecodeStatus.OK) out.error = { layer: d.errorLayer!, offset: d.errorOffset, reason: d.errorReason };
        yield out;
      }
    },
  };
}

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'AE'];

/** One readable line for a record: number, time since the first record, interface, VLANs, and what it is. */
export function formatSummary(rec: DecodedRecord, firstTimestamp: bigint): string {
  const t = Number(BigInt(rec.timestamp) - firstTimestamp) / 1e9;
  const l = rec.layers;
  const tags = [...((l['ieee8021ad.id'] as string[] | undefined) ?? []).map((v) => `s${v}`), ...((l['vlan.id'] as string[] | undefined) ?? [])];
  const vlan = tags.length ? `vlan ${tags.join('.')}` : 'untagged';
  let what: string;
  const src = (l['ip.src'] ?? l['ipv6.src']) as string | undefined;
  const dst = (l['ip.dst'] ?? l['ipv6.dst']) as string | undefined;
  const host = (ip: string | undefined): string => (ip && ip.includes(':') ? `[${ip}]` : (ip ?? '?'));
  if (l['arp.opcode']) {
    what = l['arp.opcode'] === '1'
      ? `ARP who-has ${l['arp.dst.proto_ipv4']} tell ${l['arp.src.proto_ipv4']} (${l['arp.src.hw_mac']})`
      : l['arp.opcode'] === '2'
        ? `ARP ${l['arp.src.proto_ipv4']} is-at ${l['arp.src.hw_mac']}`
        : `ARP op ${l['arp.opcode']}`;
  } else if (l['tcp.srcport']) {
    const flags = parseInt(l['tcp.flags'] as string, 16);
    const names = TCP_FLAG_NAMES.filter((_, i) => flags & (1 << i));
    what = `TCP ${host(src)}:${l['tcp.srcport']} → ${host(dst)}:${l['tcp.dstport']} [${names.join(', ')}]`;
  } else if (l['udp.srcport']) {
    what = `UDP ${host(src)}:${l['udp.srcport']} → ${host(dst)}:${l['udp.dstport']}`;
  } else if (l['icmp.type']) {
    what = `ICMP type ${l['icmp.type']} ${src} → ${dst}`;
  } else if (l['icmpv6.type']) {
    const names: Record<string, string> = { '128': 'echo request', '129': 'echo reply', '133': 'router solicitation', '134': 'router advertisement', '135': 'neighbor solicitation', '136': 'neighbor advertisement' };
    what = `ICMPv6 ${names[l['icmpv6.type'] as string] ?? `type ${l['icmpv6.type']}`} ${src} → ${dst}`;
  } else if (src) {
    what = `IP proto ${l['ip.proto'] ?? l['ipv6.nxt']} ${src} → ${dst}`;
  } else {
    what = l['eth.type'] ? `EtherType ${l['eth.type']}` : rec.linktype;
  }
  const err = rec.error ? `  MALFORMED ${rec.error.layer} at byte ${rec.error.offset}: ${rec.error.reason}` : '';
  return `${String(rec.index).padStart(6)} ${t.toFixed(6).padStart(11)}  ${String(rec.interface).padEnd(8)} ${vlan.padEnd(10)} ${what}${err}`;
}
