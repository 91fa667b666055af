/**
 * ARP for Ethernet/IPv4 (RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4 — 28 bytes. Other hardware or
 * protocol types are reported as malformed for vippath's purposes (the data path only speaks IPv4 ARP).
 */
import { formatIPv4, parseIPv4, readIPv4, formatMac, writeIPv4, writeMac } from './addresses.js';
import { read16, write16 } from './checksum.js';
import { ensureBytes, MalformedFrameError } from './errors.js';

/** Byte offsets inside an Ethernet/IPv4 ARP packet. */
export const ArpField = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OPER: 6, SHA: 8, SPA: 14, THA: 18, TPA: 24 } as const;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LENGTH = 28;
/** ARP operation codes. */
export const ArpOp = { REQUEST: 1, REPLY: 2 } as const;

/** The decoded meaning of an ARP packet. */
export interface ArpRepr {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** A validated view over an Ethernet/IPv4 ARP packet. */
export class ArpView {
  readonly buf: Uint8Array;
  readonly offset: number;
  private constructor(buf: Uint8Array, offset: number) {
    this.buf = buf;
    this.offset = offset;
  }
  /** Validates length and the fixed htype/ptype/hlen/plen; throws {@link MalformedFrameError}. */
  static checked(buf: Uint8Array, offset: number, end = buf.length): ArpView {
    ensureBytes('arp', offset, ARP_LENGTH, end, 'ARP packet');
    if (read16(buf, offset) !== 1 || read16(buf, offset + 2) !== 0x0800 || buf[offset + 4] !== 6 || buf[offset + 5] !== 4) {
      throw new MalformedFrameError('arp', offset, 'not Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4)');
    }
    return new ArpView(buf, offset);
  }
  get op(): number {
    return read16(this.buf, this.offset + 6);
  }
  get senderIp(): number {
    return readIPv4(this.buf, this.offset + 14);
  }
  get targetIp(): number {
    return readIPv4(this.buf, this.offset + 24);
  }
}

/** Decodes an ARP packet. */
export function parseArp(view: ArpView): ArpRepr {
  const { buf, offset } = view;
  return {
    op: view.op,
    senderMac: formatMac(buf, offset + 8),
    senderIp: formatIPv4(view.senderIp),
    targetMac: formatMac(buf, offset + 18),
    targetIp: formatIPv4(view.targetIp),
  };
}

/** Writes the 28-byte packet at `offset`; returns the offset after it. */
export function emitArp(repr: ArpRepr, buf: Uint8Array, offset: number): number {
  write16(buf, offset, 1);
  write16(buf, offset + 2, 0x0800);
  buf[offset + 4] = 6;
  buf[offset + 5] = 4;
  write16(buf, offset + 6, repr.op);
  writeMac(buf, offset + 8, repr.senderMac);
  writeIPv4(buf, offset + 14, parseIPv4(repr.senderIp));
  writeMac(buf, offset + 18, repr.targetMac);
  writeIPv4(buf, offset + 24, parseIPv4(repr.targetIp));
  return offset + ARP_LENGTH;
}
