/**
 * The capture parser: a cursor that walks classic pcap and pcapng records over a byte buffer without
 * allocating per record. The streaming reader feeds it successive buffers; benchmarks and tests run it
 * over one in-memory buffer.
 *
 * Formats: classic pcap (tcpdump.org "pcap savefile format"; magic 0xa1b2c3d4 µs / 0xa1b23c4d ns, either
 * byte order) and pcapng (IETF draft-ietf-opsawg-pcapng: SHB, IDB, EPB, SPB, OPB; other blocks skipped).
 */
import { VippathError } from '@vippath/wire';
import { PcapFormatError, TruncatedCaptureError, type PcapErrorCode } from './errors.js';
import { SUPPORTED_LINKTYPES } from './linktype.js';

/** Records larger than this are refused without allocating: no real link has such frames. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
/** A pcapng block larger than this is refused for the same reason. */
export const MAX_BLOCK_BYTES = MAX_RECORD_BYTES + 4096;

/** What to do with a malformed record that can be stepped over. */
export type OnError = 'stop' | 'skip';

/** Reader options. */
export interface ReaderOptions {
  /** `stop` (default): throw the typed error. `skip`: count it in `stats.skipped` and go on where possible. */
  onError?: OnError;
  /** Linktypes to accept (default EN10MB, LINUX_SLL, LINUX_SLL2). */
  linktypes?: readonly number[];
}

/** One capture interface: the classic file's single link, or a pcapng IDB. */
export interface CaptureInterface {
  id: number;
  linktype: number;
  snaplen: number;
  name?: string;
  description?: string;
  /** Timestamp units per second as 10^n (`base` 10) or 2^n (`base` 2). */
  tsresol: { base: 10 | 2; exponent: number };
  /** Seconds added to every timestamp (pcapng `if_tsoffset`). */
  tsoffset: number;
}

/** Counts the cursor keeps. */
export interface ReaderStats {
  records: number;
  /** Records or blocks stepped over under `onError: 'skip'`, by error code. */
  skipped: Partial<Record<PcapErrorCode | 'TRUNCATED_CAPTURE', number>>;
  /** pcapng blocks of types vippath does not read (statistics, name resolution, custom…). */
  otherBlocks: number;
  sections: number;
}

/** Result of {@link CaptureCursor.next}. */
export const Next = { NEED_MORE: 0, RECORD: 1 } as const;

const enum Format {
  Unknown,
  Classic,
  Pcapng,
}

/**
 * A cursor over capture bytes. `next()` advances to the next record and exposes it through fields;
 * the record's bytes are `buffer[dataOffset, dataOffset + captureLength)`.
 */
export class CaptureCursor {
  /** Interfaces seen so far (classic: one; pcapng: per section, re-numbered from 0 by each SHB). */
  interfaces: CaptureInterface[] = [];
  readonly stats: ReaderStats = { records: 0, skipped: {}, otherBlocks: 0, sections: 0 };
  /** Format of the capture once known. */
  formatName: 'pcap' | 'pcapng' | undefined;
  /** True for nanosecond classic pcap. */
  nanosecond = false;

  // The current record.
  interfaceId = 0;
  linktype = 0;
  captureLength = 0;
  originalLength = 0;
  /** Whole seconds since the epoch. */
  seconds = 0;
  /** Nanoseconds within the second. */
  nanos = 0;
  /** Offset of the record's bytes in {@link buffer}. */
  dataOffset = 0;
  /** pcapng packet comment (opt_comment) of the current record, if it had one. */
  comment: string | undefined;

  buffer: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buffer.buffer);
  private pos = 0;
  private end = 0;
  private base = 0;
  private final = false;
  private format = Format.Unknown;
  private little = true;
  private readonly onError: OnError;
  private readonly linktypes: readonly number[];
  private readonly decoder = new TextDecoder();

  constructor(options: ReaderOptions = {}) {
    this.onError = options.onError ?? 'stop';
    this.linktypes = options.linktypes ?? SUPPORTED_LINKTYPES;
  }

  /**
   * Hands the cursor the next bytes. `buf` must start with the bytes not consumed from the previous
   * buffer (see {@link consumed}); `final` says no more will come.
   */
  feed(buf: Uint8Array, final: boolean): void {
    if (!(buf instanceof Uint8Array)) throw new VippathError('BAD_ARGUMENT', `feed() takes the capture's bytes as a Uint8Array (a Buffer is one), not ${typeof buf}`);
    this.base += this.pos;
    this.buffer = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.end = buf.length;
    this.final = final;
  }

  /** Bytes of the current buffer already consumed; the rest must be handed back by the next `feed`. */
  get consumed(): number {
    return this.pos;
  }

  /** File offset of the next unread byte. */
  get fileOffset(): number {
    return this.base + this.pos;
  }

  /** The current record's bytes as a view (allocates a view object; hot loops use buffer/dataOffset). */
  get data(): Uint8Array {
    return this.buffer.subarray(this.dataOffset, this.dataOffset + this.captureLength);
  }

  /** Timestamp of the current record in nanoseconds since the epoch. */
  get timestamp(): bigint {
    return BigInt(this.seconds) * 1_000_000_000n + BigInt(this.nanos);
  }

  /**
   * Advances to the next record: {@link Next.RECORD}, or {@link Next.NEED_MORE} when the buffer holds no
   * complete record (at the end of a final buffer this is the end of the capture; a partial record there
   * throws {@link TruncatedCaptureError}, or is counted under `skip`).
   */
  next(): number {
    for (;;) {
      if (this.format === Format.Unknown) {
        if (!this.readFileStart()) return Next.NEED_MORE;
        continue;
      }
      const r = this.format === Format.Classic ? this.nextClassic() : this.nextBlock();
      if (r !== -1) return r;
    }
  }

  private u16(at: number): number {
    return this.view.getUint16(at, this.little);
  }
  private u32(at: number): number {
    return this.view.getUint32(at, this.little);
  }

  private fail(code: PcapErrorCode, at: number, message: string): void {
    const err = new PcapFormatError(code, this.base + at, message);
    if (this.onError === 'stop') throw err;
    this.stats.skipped[code] = (this.stats.skipped[code] ?? 0) + 1;
  }

  private fatal(code: PcapErrorCode, at: number, message: string): never {
    throw new PcapFormatError(code, this.base + at, message);
  }

  private truncated(what: string): number {
    if (this.final && this.pos < this.end) {
      const err = new TruncatedCaptureError(this.fileOffset, this.stats.records, what);
      this.pos = this.end;
      if (this.onError === 'stop') throw err;
      this.stats.skipped.TRUNCATED_CAPTURE = (this.stats.skipped.TRUNCATED_CAPTURE ?? 0) + 1;
    }
    return Next.NEED_MORE;
  }

  private readFileStart(): boolean {
    const avail = this.end - this.pos;
    if (avail < 4) {
      if (this.final) {
        if (this.base + this.pos === 0 && avail === 0) this.fatal('TRUNCATED_HEADER', 0, 'empty capture: no file header');
        if (avail > 0) this.fatal('TRUNCATED_HEADER', this.pos, 'capture ends inside the file header');
      }
      return false;
    }
    const b = this.buffer;
    const p = this.pos;
    const be = (b[p]! << 24 | b[p + 1]! << 16 | b[p + 2]! << 8 | b[p + 3]!) >>> 0;
    if (be === 0x0a0d0d0a) {
      this.format = Format.Pcapng;
      this.formatName = 'pcapng';
      return true;
    }
    let little: boolean;
    if (be === 0xa1b2c3d4 || be === 0xa1b23c4d) little = false;
    else if (be === 0xd4c3b2a1 || be === 0x4d3cb2a1) little = true;
    else return this.fatal('BAD_MAGIC', p, `not a pcap or pcapng file: magic 0x${be.toString(16).padStart(8, '0')}`);
    if (avail < 24) {
      if (this.final) this.fatal('TRUNCATED_HEADER', p, `capture ends inside the 24-byte pcap file header (${avail} bytes)`);
      return false;
    }
    this.little = little;
    this.nanosecond = be === 0xa1b23c4d || be === 0x4d3cb2a1;
    const major = this.u16(p + 4);
    if (major !== 2) this.fatal('UNSUPPORTED_VERSION', p + 4, `pcap version ${major}.${this.u16(p + 6)}, expected 2.4`);
    const snaplen = this.u32(p + 16);
    // The top bits of the link field carry FCS information (pcap-savefile(5)); the linktype is the low 16.
    const linktype = this.u32(p + 20) & 0xffff;
    if (!this.linktypes.includes(linktype)) this.fatal('UNSUPPORTED_LINKTYPE', p + 20, `linktype ${linktype} is not one vippath reads (${this.linktypes.join(', ')})`);
    this.interfaces = [{ id: 0, linktype, snaplen, tsresol: { base: 10, exponent: this.nanosecond ? 9 : 6 }, tsoffset: 0 }];
    this.format = Format.Classic;
    this.formatName = 'pcap';
    this.stats.sections = 1;
    this.pos += 24;
    return true;
  }

  private nextClassic(): number {
    const p = this.pos;
    if (this.end - p < 16) return this.truncated('a record header');
    const caplen = this.u32(p + 8);
    const origlen = this.u32(p + 12);
    if (caplen > MAX_RECORD_BYTES) this.fatal('RECORD_TOO_LARGE', p + 8, `record claims ${caplen} captured bytes (limit ${MAX_RECORD_BYTES}); the file is corrupt`);
    if (this.end - p - 16 < caplen) return this.truncated(`a ${caplen}-byte record`);
    this.pos = p + 16 + caplen;
    const iface = this.interfaces[0]!;
    // snaplen 0 is written by some tools for "unlimited".
    if (iface.snaplen !== 0 && caplen > iface.snaplen) {
      this.fail('CAPLEN_EXCEEDS_SNAPLEN', p + 8, `record has ${caplen} bytes, more than the file's snaplen ${iface.snaplen}`);
      return -1;
    }
    if (caplen > origlen) {
      this.fail('CAPLEN_EXCEEDS_ORIGLEN', p + 8, `record captured ${caplen} bytes of a ${origlen}-byte packet`);
      return -1;
    }
    this.interfaceId = 0;
    this.linktype = iface.linktype;
    this.captureLength = caplen;
    this.originalLength = origlen;
    this.seconds = this.u32(p);
    const frac = this.u32(p + 4);
    this.nanos = this.nanosecond ? frac : frac * 1000;
    this.dataOffset = p + 16;
    this.comment = undefined;
    this.stats.records++;
    return Next.RECORD;
  }

  private nextBlock(): number {
    const p = this.pos;
    if (this.end - p < 12) return this.truncated('a pcapng block header');
    const b = this.buffer;
    const typeBE = (b[p]! << 24 | b[p + 1]! << 16 | b[p + 2]! << 8 | b[p + 3]!) >>> 0;
    if (typeBE === 0x0a0d0d0a) {
      // A Section Header Block sets the byte order of everything up to the next SHB.
      const magic = (b[p + 8]! << 24 | b[p + 9]! << 16 | b[p + 10]! << 8 | b[p + 11]!) >>> 0;
      if (magic === 0x1a2b3c4d) this.little = false;
      else if (magic === 0x4d3c2b1a) this.little = true;
      else this.fatal('BAD_MAGIC', p + 8, `pcapng section header has byte-order magic 0x${magic.toString(16)}, expected 0x1a2b3c4d`);
    }
    const type = this.u32(p);
    const len = this.u32(p + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_BYTES) {
      this.fatal('BLOCK_LENGTH', p + 4, `pcapng block of type 0x${type.toString(16)} has total length ${len} (must be a multiple of 4, at least 12, at most ${MAX_BLOCK_BYTES})`);
    }
    if (this.end - p < len) return this.truncated(`a ${len}-byte pcapng block`);
    this.pos = p + len;
    const trailer = this.u32(p + len - 4);
    if (trailer !== len) {
      this.fail('BLOCK_LENGTH_MISMATCH', p + len - 4, `pcapng block total length ${len} at its start but ${trailer} at its end`);
      return -1;
    }
    switch (type) {
      case 0x0a0d0d0a:
        return this.sectionHeader(p, len);
      case 1:
        return this.interfaceDescription(p, len);
      case 6:
        return this.enhancedPacket(p, len);
      case 3:
        return this.simplePacket(p, len);
      case 2:
        return this.obsoletePacket(p, len);
      default:
        this.stats.otherBlocks++;
        return -1;
    }
  }

  private sectionHeader(p: number, len: number): number {
    if (len < 28) this.fatal('BLOCK_LENGTH', p + 4, `section header block of ${len} bytes, minimum 28`);
    const major = this.u16(p + 12);
    if (major !== 1) this.fatal('UNSUPPORTED_VERSION', p + 12, `pcapng version ${major}, expected 1`);
    this.interfaces = [];
    this.stats.sections++;
    return -1;
  }

  private interfaceDescription(p: number, len: number): number {
    if (len < 20) {
      this.fail('BLOCK_LENGTH', p + 4, `interface description block of ${len} bytes, minimum 20`);
      return -1;
    }
    const iface: CaptureInterface = {
      id: this.interfaces.length,
      linktype: this.u16(p + 8),
      snaplen: this.u32(p + 12),
      tsresol: { base: 10, exponent: 6 },
      tsoffset: 0,
    };
    let at = p + 16;
    const end = p + len - 4;
    while (at + 4 <= end) {
      const code = this.u16(at);
      const olen = this.u16(at + 2);
      if (code === 0) break;
      if (at + 4 + olen > end) {
        this.fail('BAD_OPTION', at, `option ${code} of ${olen} bytes runs past its block`);
        break;
      }
      const v = at + 4;
      if (code === 2) iface.name = this.decoder.decode(this.buffer.subarray(v, v + olen)).replace(/\0+$/, '');
      else if (code === 3) iface.description = this.decoder.decode(this.buffer.subarray(v, v + olen)).replace(/\0+$/, '');
      else if (code === 9 && olen >= 1) {
        const r = this.buffer[v]!;
        iface.tsresol = r & 0x80 ? { base: 2, exponent: r & 0x7f } : { base: 10, exponent: r };
      } else if (code === 14 && olen >= 8) {
        // if_tsoffset: a signed 64-bit count of seconds.
        iface.tsoffset = Number(this.view.getBigInt64(v, this.little));
      }
      at = v + ((olen + 3) & ~3);
    }
    this.interfaces.push(iface);
    if (!this.linktypes.includes(iface.linktype)) {
      this.fail('UNSUPPORTED_LINKTYPE', p + 8, `interface ${iface.id} has linktype ${iface.linktype}, not one vippath reads (${this.linktypes.join(', ')})`);
    }
    return -1;
  }

  private usable(id: number, at: number): CaptureInterface | undefined {
    const iface = this.interfaces[id];
    if (!iface) {
      this.fail('UNKNOWN_INTERFACE', at, `packet names interface ${id}, but the section has ${this.interfaces.length} interface(s)`);
      return undefined;
    }
    if (!this.linktypes.includes(iface.linktype)) {
      this.stats.skipped.UNSUPPORTED_LINKTYPE = (this.stats.skipped.UNSUPPORTED_LINKTYPE ?? 0) + 1;
      return undefined;
    }
    return iface;
  }

  private enhancedPacket(p: number, len: number): number {
    if (len < 32) {
      this.fail('BLOCK_LENGTH', p + 4, `enhanced packet block of ${len} bytes, minimum 32`);
      return -1;
    }
    const id = this.u32(p + 8);
    const caplen = this.u32(p + 20);
    const origlen = this.u32(p + 24);
    const padded = (caplen + 3) & ~3;
    if (caplen > len - 32 || padded > len - 32) {
      this.fail('BLOCK_LENGTH', p + 20, `enhanced packet block of ${len} bytes cannot hold ${caplen} captured bytes`);
      return -1;
    }
    const iface = this.usable(id, p + 8);
    if (!iface) return -1;
    if (caplen > origlen) {
      this.fail('CAPLEN_EXCEEDS_ORIGLEN', p + 20, `record captured ${caplen} bytes of a ${origlen}-byte packet`);
      return -1;
    }
    this.setTime(iface, this.u32(p + 12), this.u32(p + 16));
    this.setRecord(iface, caplen, origlen, p + 28);
    this.comment = undefined;
    // opt_comment (1) on the packet, after the padded data.
    let at = p + 28 + padded;
    const end = p + len - 4;
    while (at + 4 <= end) {
      const code = this.u16(at);
      const olen = this.u16(at + 2);
      if (code === 0 || at + 4 + olen > end) break;
      if (code === 1) this.comment = this.decoder.decode(this.buffer.subarray(at + 4, at + 4 + olen));
      at += 4 + ((olen + 3) & ~3);
    }
    return Next.RECORD;
  }

  private simplePacket(p: number, len: number): number {
    if (len < 16) {
      this.fail('BLOCK_LENGTH', p + 4, `simple packet block of ${len} bytes, minimum 16`);
      return -1;
    }
    const iface = this.usable(0, p);
    if (!iface) return -1;
    const origlen = this.u32(p + 8);
    // The captured length is implied: the smallest of the original length, the snaplen and the room in the block.
    let caplen = Math.min(origlen, len - 16);
    if (iface.snaplen !== 0) caplen = Math.min(caplen, iface.snaplen);
    // SPBs carry no timestamp.
    this.seconds = 0;
    this.nanos = 0;
    this.setRecord(iface, caplen, origlen, p + 12);
    this.comment = undefined;
    return Next.RECORD;
  }

  private obsoletePacket(p: number, len: number): number {
    if (len < 32) {
      this.fail('BLOCK_LENGTH', p + 4, `packet block of ${len} bytes, minimum 32`);
      return -1;
    }
    const id = this.u16(p + 8);
    const caplen = this.u32(p + 20);
    const origlen = this.u32(p + 24);
    if (caplen > len - 32) {
      this.fail('BLOCK_LENGTH', p + 20, `packet block of ${len} bytes cannot hold ${caplen} captured bytes`);
      return -1;
    }
    const iface = this.usable(id, p + 8);
    if (!iface) return -1;
    this.setTime(iface, this.u32(p + 12), this.u32(p + 16));
    this.setRecord(iface, caplen, origlen, p + 28);
    this.comment = undefined;
    return Next.RECORD;
  }

  private setRecord(iface: CaptureInterface, caplen: number, origlen: number, dataOffset: number): void {
    this.interfaceId = iface.id;
    this.linktype = iface.linktype;
    this.captureLength = caplen;
    this.originalLength = origlen;
    this.dataOffset = dataOffset;
    this.stats.records++;
  }

  /**
   * Converts a 64-bit timestamp (high, low words) in the interface's units to seconds + nanoseconds,
   * exactly and without BigInt for the usual power-of-ten resolutions: long division by 16-bit limbs
   * keeps every intermediate below 2^53.
   */
  private setTime(iface: CaptureInterface, high: number, low: number): void {
    const { base, exponent } = iface.tsresol;
    if (base === 10 && exponent <= 15) {
      const d = 10 ** exponent;
      const limbs0 = high >>> 16;
      const limbs1 = high & 0xffff;
      const limbs2 = low >>> 16;
      const limbs3 = low & 0xffff;
      let cur = limbs0;
      let q = Math.floor(cur / d);
      let r = cur - q * d;
      let seconds = q;
      cur = r * 65536 + limbs1;
      q = Math.floor(cur / d);
      r = cur - q * d;
      seconds = seconds * 65536 + q;
      cur = r * 65536 + limbs2;
      q = Math.floor(cur / d);
      r = cur - q * d;
      seconds = seconds * 65536 + q;
      cur = r * 65536 + limbs3;
      q = Math.floor(cur / d);
      r = cur - q * d;
      seconds = seconds * 65536 + q;
      this.seconds = seconds + iface.tsoffset;
      this.nanos = exponent <= 9 ? r * 10 ** (9 - exponent) : Math.floor(r / 10 ** (exponent - 9));
      return;
    }
    // Power-of-two (or unusually fine) resolutions are rare: exact BigInt arithmetic.
    const units = (BigInt(high) << 32n) | BigInt(low);
    const perSecond = base === 2 ? 1n << BigInt(exponent) : 10n ** BigInt(exponent);
    this.seconds = Number(units / perSecond) + iface.tsoffset;
    this.nanos = Number(((units % perSecond) * 1_000_000_000n) / perSecond);
  }
}
