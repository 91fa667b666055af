/**
 * UDP (RFC 768). Over IPv4 a zero checksum means "none"; a computed zero is sent as 0xffff.
 */
import { internetChecksum, read16, write16 } from './checksum.js';
import { ensureBytes, MalformedFrameError } from './errors.js';

/** Byte offsets inside the UDP header. */
export const UdpField = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6 } as const;
/** UDP header length. */
export const UDP_HEADER_LENGTH = 8;

/** The decoded meaning of a UDP datagram. */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/** A validated view over a UDP datagram bounded by the IP payload. */
export class UdpView {
  readonly buf: Uint8Array;
  readonly offset: number;
  private constructor(buf: Uint8Array, offset: number) {
    this.buf = buf;
    this.offset = offset;
  }
  /** `available` is the IP payload length; throws {@link MalformedFrameError}. */
  static checked(buf: Uint8Array, offset: number, available: number): UdpView {
    ensureBytes('udp', offset, UDP_HEADER_LENGTH, offset + available, 'UDP header');
    const len = read16(buf, offset + 4);
    if (len < UDP_HEADER_LENGTH) throw new MalformedFrameError('udp', offset + 4, `length ${len} below 8`);
    if (len > available) throw new MalformedFrameError('udp', offset + 4, `length ${len} exceeds the ${available}-byte IP payload`);
    return new UdpView(buf, offset);
  }
  get srcPort(): number {
    return read16(this.buf, this.offset);
  }
  get dstPort(): number {
    return read16(this.buf, this.offset + 2);
  }
  get length(): number {
    return read16(this.buf, this.offset + 4);
  }
}

/** Decodes a UDP datagram. */
export function parseUdp(view: UdpView): UdpRepr {
  return { srcPort: view.srcPort, dstPort: view.dstPort, payload: view.buf.slice(view.offset + 8, view.offset + view.length) };
}

/** Datagram length of a representation. */
export function udpLength(repr: Pick<UdpRepr, 'payload'>): number {
  return UDP_HEADER_LENGTH + repr.payload.length;
}

/** Writes the datagram at `offset` with its checksum over `pseudoSum`; returns its end. */
export function emitUdp(repr: UdpRepr, buf: Uint8Array, offset: number, pseudoSum: number): number {
  const len = udpLength(repr);
  write16(buf, offset, repr.srcPort);
  write16(buf, offset + 2, repr.dstPort);
  write16(buf, offset + 4, len);
  write16(buf, offset + 6, 0);
  buf.set(repr.payload, offset + 8);
  const sum = internetChecksum(buf, offset, len, pseudoSum);
  write16(buf, offset + 6, sum === 0 ? 0xffff : sum);
  return offset + len;
}
