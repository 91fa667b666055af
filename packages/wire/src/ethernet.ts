/**
 * Ethernet II (IEEE 802.3 with an EtherType) and IEEE 802.1Q / 802.1ad tag stacks.
 *
 * Layout: dst MAC [0,6), src MAC [6,12), then zero or more 4-byte tags (TPID, TCI), then the EtherType.
 * A frame captured on the sending host may be shorter than the 60-byte minimum (padding is added by the
 * NIC), so no minimum beyond the 14-byte header is enforced.
 */
import { formatMac, writeMac } from './addresses.js';
import { ensureBytes, MalformedFrameError } from './errors.js';
import { read16, write16 } from './checksum.js';

/** Byte offsets inside the Ethernet header. */
export const EthernetField = { DST: 0, SRC: 6, TYPE: 12 } as const;
/** Length of an untagged Ethernet II header. */
export const ETHERNET_HEADER_LENGTH = 14;
/** Length of one 802.1Q/802.1ad tag (TPID + TCI). */
export const VLAN_TAG_LENGTH = 4;
/** The most tags a frame may carry before vippath calls it malformed (QinQ needs 2; real stacks rarely 3). */
export const MAX_VLAN_TAGS = 4;

/** EtherTypes vippath knows by name. */
export const EtherType = {
  IPv4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPv6: 0x86dd,
  QINQ: 0x88a8,
  /** Pre-standard QinQ TPID still emitted by some switches. */
  QINQ_OLD: 0x9100,
} as const;

/** True for the TPIDs that start a VLAN tag (802.1Q 0x8100, 802.1ad 0x88a8, legacy 0x9100). */
export function isVlanTpid(type: number): boolean {
  return type === 0x8100 || type === 0x88a8 || type === 0x9100;
}

/** One VLAN tag: TPID and the TCI's three fields. */
export interface VlanTag {
  tpid: number;
  /** Priority code point, 0–7. */
  pcp: number;
  /** Drop eligible indicator (formerly CFI), 0 or 1. */
  dei: number;
  /** VLAN identifier, 0–4095. */
  vid: number;
}

/** The decoded meaning of an Ethernet header with its tag stack (outermost tag first). */
export interface EthernetRepr {
  dst: string;
  src: string;
  vlans: VlanTag[];
  /** The innermost EtherType: the protocol of the payload. */
  ethertype: number;
}

/** Packs a tag's PCP, DEI and VID into a 16-bit TCI. */
export function makeTci(pcp: number, dei: number, vid: number): number {
  return ((pcp & 7) << 13) | ((dei & 1) << 12) | (vid & 0xfff);
}

/**
 * A view over the Ethernet header of a frame, validated once at construction so its accessors cannot
 * read past the buffer. `end` bounds the frame inside a larger buffer.
 */
export class EthernetView {
  readonly buf: Uint8Array;
  readonly offset: number;
  readonly end: number;
  /** Number of VLAN tags before the EtherType. */
  readonly tagCount: number;

  private constructor(buf: Uint8Array, offset: number, end: number, tagCount: number) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
    this.tagCount = tagCount;
  }

  /** Validates header and tag stack; throws {@link MalformedFrameError}. */
  static checked(buf: Uint8Array, offset = 0, end = buf.length): EthernetView {
    ensureBytes('ethernet', offset, ETHERNET_HEADER_LENGTH, end, 'Ethernet header');
    let tags = 0;
    let at = offset + EthernetField.TYPE;
    while (isVlanTpid(read16(buf, at))) {
      if (tags === MAX_VLAN_TAGS) throw new MalformedFrameError('vlan', at, `more than ${MAX_VLAN_TAGS} VLAN tags`);
      ensureBytes('vlan', at, VLAN_TAG_LENGTH + 2, end, '802.1Q tag');
      tags++;
      at += VLAN_TAG_LENGTH;
    }
    return new EthernetView(buf, offset, end, tags);
  }

  get dst(): string {
    return formatMac(this.buf, this.offset);
  }
  get src(): string {
    return formatMac(this.buf, this.offset + 6);
  }
  /** The TPID of tag `i` (0 = outermost). */
  tpid(i: number): number {
    return read16(this.buf, this.offset + 12 + 4 * i);
  }
  /** The TCI of tag `i` (0 = outermost). */
  tci(i: number): number {
    return read16(this.buf, this.offset + 14 + 4 * i);
  }
  /** The innermost EtherType. */
  get ethertype(): number {
    return read16(this.buf, this.offset + 12 + 4 * this.tagCount);
  }
  /** Offset of the payload (first byte after the innermost EtherType). */
  get payloadOffset(): number {
    return this.offset + ETHERNET_HEADER_LENGTH + 4 * this.tagCount;
  }
  setDst(mac: string | Uint8Array): void {
    writeMac(this.buf, this.offset, mac);
  }
  setSrc(mac: string | Uint8Array): void {
    writeMac(this.buf, this.offset + 6, mac);
  }
}

/** Decodes the Ethernet header and tag stack. */
export function parseEthernet(view: EthernetView): EthernetRepr {
  const vlans: VlanTag[] = [];
  for (let i = 0; i < view.tagCount; i++) {
    const tci = view.tci(i);
    vlans.push({ tpid: view.tpid(i), pcp: tci >> 13, dei: (tci >> 12) & 1, vid: tci & 0xfff });
  }
  return { dst: view.dst, src: view.src, vlans, ethertype: view.ethertype };
}

/** Header length of a representation (14 + 4 per tag). */
export function ethernetHeaderLength(repr: Pick<EthernetRepr, 'vlans'>): number {
  return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH * repr.vlans.length;
}

/** Writes the header at `offset`; returns the payload offset. */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, offset = 0): number {
  writeMac(buf, offset, repr.dst);
  writeMac(buf, offset + 6, repr.src);
  let at = offset + 12;
  for (const tag of repr.vlans) {
    write16(buf, at, tag.tpid);
    write16(buf, at + 2, makeTci(tag.pcp, tag.dei, tag.vid));
    at += 4;
  }
  write16(buf, at, repr.ethertype);
  return at + 2;
}
