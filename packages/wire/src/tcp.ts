/**
 * TCP (RFC 9293) header: ports, sequence numbers, flags, window, options. The checksum covers the
 * pseudo-header of the enclosing IP packet, so emitting takes a function that supplies that sum.
 */
import { internetChecksum, read16, read32, write16, write32 } from './checksum.js';
import { ensureBytes, MalformedFrameError } from './errors.js';

/** Byte offsets inside the TCP header. */
export const TcpField = { SRC_PORT: 0, DST_PORT: 2, SEQ: 4, ACK: 8, OFFSET_FLAGS: 12, WINDOW: 14, CHECKSUM: 16, URGENT: 18, OPTIONS: 20 } as const;
/** Minimum TCP header length. */
export const TCP_MIN_HEADER_LENGTH = 20;
/** TCP flag bits as in the low 9 bits of bytes 12–13 (tshark's `tcp.flags`). */
export const TcpFlag = { FIN: 0x001, SYN: 0x002, RST: 0x004, PSH: 0x008, ACK: 0x010, URG: 0x020, ECE: 0x040, CWR: 0x080, AE: 0x100 } as const;

/** The decoded meaning of a TCP segment. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Flag bits (see {@link TcpFlag}). */
  flags: number;
  window: number;
  urgent: number;
  /** Raw option bytes (a multiple of 4 long). */
  options: Uint8Array;
  payload: Uint8Array;
}

/** A validated view over a TCP segment bounded by the IP payload. */
export class TcpView {
  readonly buf: Uint8Array;
  readonly offset: number;
  readonly length: number;
  private constructor(buf: Uint8Array, offset: number, length: number) {
    this.buf = buf;
    this.offset = offset;
    this.length = length;
  }
  /** `length` is the segment length from the IP header; throws {@link MalformedFrameError}. */
  static checked(buf: Uint8Array, offset: number, length: number): TcpView {
    ensureBytes('tcp', offset, TCP_MIN_HEADER_LENGTH, offset + length, 'TCP header');
    const dataOffset = (buf[offset + 12]! >> 4) * 4;
    if (dataOffset < TCP_MIN_HEADER_LENGTH) throw new MalformedFrameError('tcp', offset + 12, `data offset ${dataOffset} below 20`);
    if (dataOffset > length) throw new MalformedFrameError('tcp', offset + 12, `data offset ${dataOffset} exceeds the ${length}-byte segment`);
    return new TcpView(buf, offset, length);
  }
  get srcPort(): number {
    return read16(this.buf, this.offset);
  }
  get dstPort(): number {
    return read16(this.buf, this.offset + 2);
  }
  get headerLength(): number {
    return (this.buf[this.offset + 12]! >> 4) * 4;
  }
  get flags(): number {
    return read16(this.buf, this.offset + 12) & 0x1ff;
  }
}

/** Decodes a TCP segment. */
export function parseTcp(view: TcpView): TcpRepr {
  const { buf, offset } = view;
  const hl = view.headerLength;
  return {
    srcPort: view.srcPort,
    dstPort: view.dstPort,
    seq: read32(buf, offset + 4),
    ack: read32(buf, offset + 8),
    flags: view.flags,
    window: read16(buf, offset + 14),
    urgent: read16(buf, offset + 18),
    options: buf.slice(offset + 20, offset + hl),
    payload: buf.slice(offset + hl, offset + view.length),
  };
}

/** Segment length of a representation (header + options + payload). */
export function tcpLength(repr: Pick<TcpRepr, 'options' | 'payload'>): number {
  return TCP_MIN_HEADER_LENGTH + repr.options.length + repr.payload.length;
}

/** Writes the segment at `offset` with the checksum over `pseudoSum` (see checksum.ts); returns its end. */
export function emitTcp(repr: TcpRepr, buf: Uint8Array, offset: number, pseudoSum: number): number {
  if (repr.options.length % 4 !== 0 || repr.options.length > 40) {
    throw new MalformedFrameError('tcp', offset + 20, `options length ${repr.options.length} is not a multiple of 4 up to 40`);
  }
  const hl = TCP_MIN_HEADER_LENGTH + repr.options.length;
  write16(buf, offset, repr.srcPort);
  write16(buf, offset + 2, repr.dstPort);
  write32(buf, offset + 4, repr.seq);
  write32(buf, offset + 8, repr.ack);
  write16(buf, offset + 12, ((hl / 4) << 12) | (repr.flags & 0x1ff));
  write16(buf, offset + 14, repr.window);
  write16(buf, offset + 16, 0);
  write16(buf, offset + 18, repr.urgent);
  buf.set(repr.options, offset + 20);
  buf.set(repr.payload, offset + hl);
  const end = offset + hl + repr.payload.length;
  write16(buf, offset + 16, internetChecksum(buf, offset, end - offset, pseudoSum));
  return end;
}
