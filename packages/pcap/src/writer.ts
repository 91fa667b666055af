/**
 * Writing captures: classic pcap (µs or ns) and pcapng (one IDB per interface, with names, descriptions
 * and packet comments). Output goes to a {@link ByteSink}: a file written to a temporary name and renamed
 * into place on `close()` (so a failed run never leaves a half-written file over a good one), a Writable,
 * or memory.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { copyBytes, VippathError } from '@vippath/wire';
import { LinkType } from './linktype.js';

/** Where written bytes go. */
export interface ByteSink {
  /** Takes the bytes now: the caller may reuse `bytes` once this returns (the writers reuse their headers). */
  write(bytes: Uint8Array): void;
  /**
   * `write(bytes.subarray(offset, offset + length))` without the view, for sinks that copy (a writer hands a
   * packet where it lies in a larger buffer). Optional: writers fall back to `write` of a view.
   */
  writeRange?(bytes: Uint8Array, offset: number, length: number): void;
  /** Finishes the output (for files: flush and rename into place). */
  close(): Promise<void>;
  /** Abandons the output (for files: delete the temporary file). */
  abort(): void;
}

/**
 * An output file that cannot be written where asked: the path names a directory, a FIFO or a device, an input
 * of the same run, another output of the same run; permission denied; no space left… `path` is the output's
 * path, the message says what is wrong in words (no raw errno stack).
 */
export class OutputError extends VippathError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('OUTPUT', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** A file-system error (`EACCES`, `ENOTDIR`, `EISDIR`…) in words, for messages without an errno stack. */
export function describeFileError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'its directory does not exist';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    default:
      return err.message ?? String(e);
  }
}

function kindOf(st: Stats): string | undefined {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return undefined;
}

/**
 * Refuses an output path that is not a regular file or absent: outputs are written by renaming a complete
 * file over the path, which would replace a FIFO, a device or a socket with a file — and a directory cannot be
 * replaced at all. A symbolic link is followed for this check (the link itself is what the rename replaces).
 */
export function checkOutputPath(path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new OutputError(path, describeFileError(e), { cause: e });
  }
  const kind = kindOf(st);
  if (kind) throw new OutputError(path, `it is ${kind}, not a regular file; give a file path (vippath replaces outputs whole, by renaming)`);
}

// Temporaries not yet renamed or removed: what a signal handler deletes (removeTemporaries).
const live = new Set<string>();
// Outputs renamed into place by this process (outputsPublished).
let published = 0;

/**
 * Whether this process has renamed outputs into place and holds no temporary not yet renamed. For SIGINT/SIGTERM
 * handlers: a run renames all its outputs in one synchronous step (no signal handler runs inside it), so a signal
 * that lands after that step and before the command returns interrupts nothing of its outputs — "earlier outputs
 * left as they were" would be false.
 */
export function outputsPublished(): boolean {
  return published > 0 && live.size === 0;
}

/**
 * Deletes every temporary output file not yet renamed into place (for SIGINT/SIGTERM handlers: synchronous,
 * never throws). Returns how many it removed.
 */
export function removeTemporaries(): number {
  let n = 0;
  for (const t of live) {
    try {
      unlinkSync(t);
      n++;
    } catch {
      // already gone
    }
  }
  live.clear();
  return n;
}

/** A file output: bytes go to a temporary in the final directory; {@link FileSink.commit} renames it into place. */
export interface FileSink extends ByteSink {
  /** The final path. */
  readonly path: string;
  /** The temporary being written: `.<name>.<random>.tmp` beside the final path. */
  readonly temporary: string;
  /** Renames the finished temporary over the path (after `close()`); by itself when `commitOnClose`. */
  commit(): void;
}

/**
 * A sink writing to `path` through a temporary beside it, renamed on close (or on {@link FileSink.commit} with
 * `commitOnClose: false`, to publish several outputs together). The temporary's name is unpredictable
 * (`.<name>.<16 hex digits>.tmp`) and it is created with O_CREAT|O_EXCL|O_NOFOLLOW: a file or symbolic link
 * planted at any name is never opened, let alone followed. Failures are {@link OutputError}s.
 */
export function fileSink(path: string, options: { commitOnClose?: boolean } = {}): FileSink {
  checkOutputPath(path);
  const commitOnClose = options.commitOnClose ?? true;
  const dir = dirname(path);
  let tmp = '';
  let fd = -1;
  for (let attempt = 0; fd < 0; attempt++) {
    tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o666);
    } catch (e) {
      // A name taken by chance (or by someone guessing): another random name; anything else is the answer.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
      throw new OutputError(path, `cannot create a file in ${dir}: ${describeFileError(e)}`, { cause: e });
    }
  }
  live.add(tmp);
  const buffer = new Uint8Array(1 << 16);
  const bufferView = new DataView(buffer.buffer);
  let used = 0;
  // DataViews of the last few ArrayBuffers writeRange read from, in a ring: a writer's packets are views of a few
  // buffers (a capture's chunk, a simulation's scratch and pools), each view a different array.
  const sources: Array<ArrayBufferLike | undefined> = [undefined, undefined, undefined, undefined];
  const sourceViews: DataView[] = [bufferView, bufferView, bufferView, bufferView];
  let nextSource = 0;
  const sourceView = (ab: ArrayBufferLike): DataView => {
    for (let k = 0; k < 4; k++) if (sources[k] === ab) return sourceViews[k]!;
    const k = nextSource;
    nextSource = (k + 1) & 3;
    sources[k] = ab;
    return (sourceViews[k] = new DataView(ab));
  };
  // The same by the packet's array, tried first: the writers are handed the same few views again and again, and
  // `.buffer` is a call out of the JIT's code (V8's C++ builtin TypedArrayPrototypeBuffer, ≈ 45 instructions).
  // Each with its buffer's whole words as an Int32Array, for packetBlock's aligned copy.
  const bufferWords = new Int32Array(buffer.buffer);
  const arrays: Array<Uint8Array | undefined> = [undefined, undefined, undefined, undefined];
  const arrayViews: DataView[] = [bufferView, bufferView, bufferView, bufferView];
  let nextArray = 0;
  const arrayAt = (a: Uint8Array): number => {
    for (let k = 0; k < 4; k++) if (arrays[k] === a) return k;
    const k = nextArray;
    nextArray = (k + 1) & 3;
    arrays[k] = a;
    arrayViews[k] = sourceView(a.buffer);
    return k;
  };
  const viewOf = (a: Uint8Array): DataView => arrayViews[arrayAt(a)]!;
  const writeAll = (bytes: Uint8Array): void => {
    let off = 0;
    try {
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      throw new OutputError(path, `writing failed: ${describeFileError(e)}`, { cause: e });
    }
  };
  const flush = (): void => {
    if (used > 0) writeAll(buffer.subarray(0, used));
    used = 0;
  };
  let open = true;
  let closed = false;
  const remove = (): void => {
    live.delete(tmp);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  };
  // A whole Enhanced Packet Block without options, laid straight into the buffer (PcapngWriter's per-packet way): the
  // header and trailer as words in place instead of three writes of small arrays (TypedArray.prototype.set's call
  // costs more than its bytes: bench/README "The outputs' cost per frame (session 40)"), the packet by one set() — a
  // memmove, where a word loop cost ≈ 19 instructions a word (TurboFan reloads the source's map, length and base at
  // each turn): a 64-byte packet 665 → 596 instructions, 150 bytes 1 185 → 544 (bench/README "The new clients' ARP on a
  // replay with outputs, a packet block's copy, a line's index (session 41)"). Only for a whole array (every packet of
  // a replay: a frame as the simulation hands it) whose block fits the buffer; false for any other (a range of an
  // array, a snaplen-cut packet), which the writer then writes its general way.
  const packetBlock: PacketBlockWriter = (id, tsHigh, tsLow, data, offset, caplen, orig) => {
    const padded = (caplen + 3) & ~3;
    const total = 32 + padded;
    if (!LITTLE_ENDIAN || offset !== 0 || caplen !== data.length || total > buffer.length) return false;
    if (used + total > buffer.length) flush();
    if ((used & 3) !== 0) return false;
    // Int32Array stores: a DataView access checks more than an element's.
    const w = bufferWords;
    let o = used >> 2;
    w[o] = 6;
    w[o + 1] = total;
    w[o + 2] = id;
    w[o + 3] = tsHigh;
    w[o + 4] = tsLow;
    w[o + 5] = caplen;
    w[o + 6] = orig;
    o += 7;
    // The padding word zeroed first, the packet over its leading bytes.
    if ((caplen & 3) !== 0) w[o + (caplen >> 2)] = 0;
    buffer.set(data, o << 2);
    o += padded >> 2;
    w[o] = total;
    used = (o + 1) << 2;
    return true;
  };
  const sink: FileSink = {
    path,
    temporary: tmp,
    write(bytes) {
      // Small writes (a trace line, a packet block) gather in a buffer: one system call per 64 KB, not per write.
      if (used + bytes.length <= buffer.length) {
        buffer.set(bytes, used);
        used += bytes.length;
        return;
      }
      flush();
      if (bytes.length >= buffer.length) writeAll(bytes);
      else {
        buffer.set(bytes, 0);
        used = bytes.length;
      }
    },
    writeRange(bytes, offset, length) {
      // Copied into the buffer when it fits, without a view of the packet (garbage per packet): four bytes at a
      // time through a DataView of the source made once per source array (the few a writer is handed in turn —
      // a capture's chunk, a simulation's buffers — are kept), the rest byte by byte.
      if (used + length <= buffer.length) {
        let i = 0;
        if (length >= 32) {
          const src = viewOf(bytes);
          const from = bytes.byteOffset + offset;
          for (; i + 4 <= length; i += 4) bufferView.setInt32(used + i, src.getInt32(from + i, true), true);
        }
        for (; i < length; i++) buffer[used + i] = bytes[offset + i]!;
        used += length;
        return;
      }
      sink.write(bytes.subarray(offset, offset + length));
    },
    async close() {
      if (!open) return;
      open = false;
      // The sink may outlive its run (an observer's closure holds it): the sources' buffers are not its to keep.
      sources.fill(undefined);
      sourceViews.fill(bufferView);
      arrays.fill(undefined);
      arrayViews.fill(bufferView);
      try {
        flush();
        fsyncSync(fd);
      } catch (e) {
        closeSync(fd);
        remove();
        throw new OutputError(path, `writing failed: ${describeFileError(e)}`, { cause: e });
      }
      closeSync(fd);
      closed = true;
      if (commitOnClose) sink.commit();
    },
    commit() {
      if (!closed || !live.has(tmp)) return;
      try {
        // The path may have changed since the sink was made.
        checkOutputPath(path);
        renameSync(tmp, path);
      } catch (e) {
        remove();
        throw e instanceof OutputError ? e : new OutputError(path, describeFileError(e), { cause: e });
      }
      live.delete(tmp);
      published++;
    },
    abort() {
      sources.fill(undefined);
      sourceViews.fill(bufferView);
      arrays.fill(undefined);
      arrayViews.fill(bufferView);
      if (open) {
        open = false;
        closeSync(fd);
      }
      remove();
    },
  };
  packetBlocks.set(sink, packetBlock);
  return sink;
}

/** Whether this machine stores an Int32Array's elements little-endian (as pcapng is written here). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Writes one Enhanced Packet Block without options (see {@link PcapngWriter.writePacket}) a sink's own way, where it
 * can lay the block into its buffer in one go; false, nothing written, where it cannot.
 */
type PacketBlockWriter = (id: number, tsHigh: number, tsLow: number, data: Uint8Array, offset: number, caplen: number, orig: number) => boolean;

/** The sinks of this module that write packet blocks their own way (fileSink's), for PcapngWriter to find once. */
const packetBlocks = new WeakMap<ByteSink, PacketBlockWriter>();

/** A sink collecting the bytes in memory; `bytes()` returns them. */
export function memorySink(): ByteSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  let total = 0;
  return {
    write(bytes) {
      parts.push(copyBytes(bytes));
      total += bytes.length;
    },
    async close() {},
    abort() {},
    bytes() {
      const out = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    },
  };
}

/** A sink writing to a Node Writable (e.g. stdout); `close()` ends it and waits for the flush. */
export function streamSink(stream: Writable, end = true): ByteSink {
  return {
    write(bytes) {
      stream.write(copyBytes(bytes));
    },
    close() {
      return new Promise((resolve, reject) => {
        if (!end) {
          resolve();
          return;
        }
        stream.once('error', reject);
        stream.end(resolve);
      });
    },
    abort() {
      stream.destroy();
    },
  };
}

/** A record to write. `timestamp` is nanoseconds since the epoch. */
export interface WriteRecord {
  timestamp: bigint;
  data: Uint8Array;
  /** Length on the wire (defaults to `data.length`). */
  originalLength?: number;
  /** pcapng interface index (default 0). */
  interfaceId?: number;
  /** pcapng packet comment. */
  comment?: string;
}

/** Bad arguments to a writer. */
export class CaptureWriteError extends VippathError {
  constructor(message: string) {
    super('CAPTURE_WRITE', message);
  }
}

function checkRecord(rec: WriteRecord): void {
  if (!rec || !(rec.data instanceof Uint8Array) || typeof rec.timestamp !== 'bigint') {
    throw new CaptureWriteError('write() takes { timestamp: bigint nanoseconds since the epoch, data: Uint8Array }');
  }
}

function toSink(out: ByteSink | string): ByteSink {
  return typeof out === 'string' ? fileSink(out) : out;
}

/** Writes classic pcap, little-endian, in the host's usual form (as tcpdump writes it). */
export class PcapWriter {
  private readonly sink: ByteSink;
  private readonly nanosecond: boolean;
  private readonly header = new Uint8Array(16);
  private readonly hv = new DataView(this.header.buffer);
  private readonly snaplen: number;

  constructor(out: ByteSink | string, options: { linktype?: number; snaplen?: number; nanosecond?: boolean } = {}) {
    this.sink = toSink(out);
    this.nanosecond = options.nanosecond ?? false;
    this.snaplen = options.snaplen ?? 262144;
    const h = new Uint8Array(24);
    const v = new DataView(h.buffer);
    v.setUint32(0, this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, options.linktype ?? LinkType.EN10MB, true);
    this.sink.write(h);
  }

  /** Appends one record (truncated to the snaplen, as a capture would be). */
  write(rec: WriteRecord): void {
    checkRecord(rec);
    const caplen = Math.min(rec.data.length, this.snaplen);
    const orig = rec.originalLength ?? rec.data.length;
    if (orig < caplen) throw new CaptureWriteError(`originalLength ${orig} is below the ${caplen} captured bytes`);
    const seconds = rec.timestamp / 1_000_000_000n;
    const nanos = Number(rec.timestamp % 1_000_000_000n);
    this.hv.setUint32(0, Number(seconds), true);
    this.hv.setUint32(4, this.nanosecond ? nanos : Math.floor(nanos / 1000), true);
    this.hv.setUint32(8, caplen, true);
    this.hv.setUint32(12, orig, true);
    this.sink.write(this.header);
    this.sink.write(caplen === rec.data.length ? rec.data : rec.data.subarray(0, caplen));
  }

  close(): Promise<void> {
    return this.sink.close();
  }
  abort(): void {
    this.sink.abort();
  }
}

/** An interface of a pcapng file. */
export interface PcapngInterface {
  name?: string;
  description?: string;
  linktype?: number;
  snaplen?: number;
}

const encoder = new TextEncoder();

function optionBytes(options: Array<[number, Uint8Array]>): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  const size = options.reduce((n, [, v]) => n + 4 + ((v.length + 3) & ~3), 0) + 4;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const [code, value] of options) {
    if (value.length > 0xffff) throw new CaptureWriteError(`pcapng option ${code} is ${value.length} bytes; the format allows 65535`);
    dv.setUint16(at, code, true);
    dv.setUint16(at + 2, value.length, true);
    out.set(value, at + 4);
    at += 4 + ((value.length + 3) & ~3);
  }
  // opt_endofopt is the zero word already there.
  return out;
}

const TWO_32 = 4294967296;

/**
 * Sets `words` to the high and low 32-bit words of `base + deltaNs` modulo 2^64, `base` given as its words and
 * `deltaNs` an integer-valued number (any magnitude: the split below is exact for every double) — what
 * `BigInt.asUintN(64, base + BigInt(deltaNs))` gives, without a BigInt per packet (see
 * {@link PcapngWriter.writePacket}).
 */
export function addNanoseconds(words: Uint32Array, baseHigh: number, baseLow: number, deltaNs: number): void {
  if (!Number.isInteger(deltaNs)) throw new CaptureWriteError(`addNanoseconds() takes a whole number of nanoseconds, not ${String(deltaNs)}`);
  // deltaNs / 2^32 is exact (a power of two), so is its floor, and the remainder is representable: exact.
  const high = Math.floor(deltaNs / TWO_32);
  const low = baseLow + (deltaNs - high * TWO_32);
  const carry = low >= TWO_32 ? 1 : 0;
  words[1] = carry ? low - TWO_32 : low;
  // Modulo 2^64: only the high word's residue matters, and the store takes it (ToUint32 of an exact integer sum:
  // below 2^34 in magnitude). A delta under 2^64 in magnitude has its high part as its residue: no float modulo
  // (a call out of the JIT's code) on any replay's packet.
  words[0] = baseHigh + (high < TWO_32 && high > -TWO_32 ? high : high % TWO_32) + carry;
}

/** Writes pcapng (little-endian): one SHB, the given IDBs (nanosecond timestamps), then EPBs. */
export class PcapngWriter {
  private readonly sink: ByteSink;
  private readonly interfaces: PcapngInterface[];
  /** An EPB's fixed header (28 bytes) and its padding + trailing length (up to 3 + 4), reused by every packet. */
  private readonly epb = new Uint8Array(28);
  private readonly epbView = new DataView(this.epb.buffer);
  private readonly tail = new Uint8Array(8);
  private readonly tailView = new DataView(this.tail.buffer);
  /** The tail's first 0–7 bytes, as views made once. */
  private readonly tails = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => this.tail.subarray(0, n));
  private readonly snaplens: number[];
  /** The sink's own way of writing a block without options (a file sink's), else undefined. */
  private readonly packetBlock: PacketBlockWriter | undefined;

  constructor(out: ByteSink | string, interfaces: PcapngInterface[], options: { application?: string } = {}) {
    if (interfaces.length === 0) throw new CaptureWriteError('a pcapng file needs at least one interface');
    this.sink = toSink(out);
    this.packetBlock = packetBlocks.get(this.sink);
    this.interfaces = interfaces;
    this.snaplens = interfaces.map((i) => i.snaplen ?? 262144);
    const shbOptions = optionBytes([[4, encoder.encode(options.application ?? 'vippath')]]);
    const shb = new Uint8Array(28 + shbOptions.length);
    const sv = new DataView(shb.buffer);
    sv.setUint32(0, 0x0a0d0d0a, true);
    sv.setUint32(4, shb.length, true);
    sv.setUint32(8, 0x1a2b3c4d, true);
    sv.setUint16(12, 1, true);
    sv.setUint16(14, 0, true);
    // Section length unknown: -1.
    sv.setInt32(16, -1, true);
    sv.setInt32(20, -1, true);
    shb.set(shbOptions, 24);
    sv.setUint32(shb.length - 4, shb.length, true);
    this.sink.write(shb);
    for (const iface of interfaces) {
      const opts: Array<[number, Uint8Array]> = [];
      if (iface.name !== undefined) opts.push([2, encoder.encode(iface.name)]);
      if (iface.description !== undefined) opts.push([3, encoder.encode(iface.description)]);
      opts.push([9, Uint8Array.of(9)]); // if_tsresol: 10^-9, nanoseconds
      const ob = optionBytes(opts);
      const idb = new Uint8Array(20 + ob.length);
      const iv = new DataView(idb.buffer);
      iv.setUint32(0, 1, true);
      iv.setUint32(4, idb.length, true);
      iv.setUint16(8, iface.linktype ?? LinkType.EN10MB, true);
      iv.setUint32(12, iface.snaplen ?? 262144, true);
      idb.set(ob, 16);
      iv.setUint32(idb.length - 4, idb.length, true);
      this.sink.write(idb);
    }
  }

  /** Appends one Enhanced Packet Block. */
  write(rec: WriteRecord): void {
    checkRecord(rec);
    const id = rec.interfaceId ?? 0;
    const iface = this.interfaces[id];
    if (!iface) throw new CaptureWriteError(`interface ${id} was not declared (this file has ${this.interfaces.length})`);
    const caplen = Math.min(rec.data.length, this.snaplens[id]!);
    const orig = rec.originalLength ?? rec.data.length;
    if (orig < caplen) throw new CaptureWriteError(`originalLength ${orig} is below the ${caplen} captured bytes`);
    const ob = rec.comment !== undefined ? optionBytes([[1, encoder.encode(rec.comment)]]) : undefined;
    // The timestamp's two 32-bit words, modulo 2^64 (a negative one in two's complement).
    this.block(id, Number(BigInt.asUintN(32, rec.timestamp >> 32n)), Number(BigInt.asUintN(32, rec.timestamp)), rec.data, 0, caplen, orig, ob);
  }

  /**
   * Appends one Enhanced Packet Block of `data[offset, offset + length)` (cut to the interface's snaplen), its
   * timestamp given as the high and low 32-bit words of the nanosecond count (see {@link addNanoseconds}):
   * the per-packet way, with no record object, no BigInt and no block buffer made. Bad arguments are
   * {@link CaptureWriteError}s.
   */
  writePacket(interfaceId: number, tsHigh: number, tsLow: number, data: Uint8Array, offset: number, length: number): void {
    const snaplen = this.snaplens[interfaceId];
    if (snaplen === undefined) throw new CaptureWriteError(`interface ${String(interfaceId)} was not declared (this file has ${this.interfaces.length})`);
    if (!(data instanceof Uint8Array) || (offset >>> 0) !== offset || (length >>> 0) !== length || offset + length > data.length) {
      throw new CaptureWriteError(`writePacket() takes a Uint8Array and a range inside it, not [${String(offset)}, +${String(length)}) of ${data instanceof Uint8Array ? `${data.length} bytes` : typeof data}`);
    }
    if ((tsHigh >>> 0) !== tsHigh || (tsLow >>> 0) !== tsLow) throw new CaptureWriteError(`writePacket() takes the timestamp as two unsigned 32-bit words, not ${String(tsHigh)}, ${String(tsLow)}`);
    this.block(interfaceId, tsHigh, tsLow, data, offset, Math.min(length, snaplen), length, undefined);
  }

  private block(id: number, tsHigh: number, tsLow: number, data: Uint8Array, offset: number, caplen: number, orig: number, options: Uint8Array | undefined): void {
    if (options === undefined && this.packetBlock !== undefined && this.packetBlock(id, tsHigh, tsLow, data, offset, caplen, orig)) return;
    const padded = (caplen + 3) & ~3;
    const total = 32 + padded + (options ? options.length : 0);
    const v = this.epbView;
    v.setUint32(0, 6, true);
    v.setUint32(4, total, true);
    v.setUint32(8, id, true);
    v.setUint32(12, tsHigh, true);
    v.setUint32(16, tsLow, true);
    v.setUint32(20, caplen, true);
    v.setUint32(24, orig, true);
    const sink = this.sink;
    sink.write(this.epb);
    if (sink.writeRange) sink.writeRange(data, offset, caplen);
    else sink.write(offset === 0 && caplen === data.length ? data : data.subarray(offset, offset + caplen));
    const pad = padded - caplen;
    const tail = this.tail;
    tail[0] = 0;
    tail[1] = 0;
    tail[2] = 0;
    if (options) {
      if (pad) sink.write(this.tails[pad]!);
      sink.write(options);
      this.tailView.setUint32(0, total, true);
      sink.write(this.tails[4]!);
    } else {
      this.tailView.setUint32(pad, total, true);
      sink.write(this.tails[pad + 4]!);
    }
  }

  close(): Promise<void> {
    return this.sink.close();
  }
  abort(): void {
    this.sink.abort();
  }
}
