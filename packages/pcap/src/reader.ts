/**
 * Reading captures as records: an async iterator over a file path, stdin (`-`) or any Readable, in
 * constant memory; and a synchronous reader over an in-memory buffer.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CaptureReadError } from './errors.js';
import { CaptureCursor, Next, type CaptureInterface, type ReaderOptions, type ReaderStats } from './cursor.js';

/** One captured packet. */
export interface CaptureRecord {
  /** Nanoseconds since the Unix epoch. */
  timestamp: bigint;
  /** Index of the capture interface (pcapng IDB; 0 for classic pcap). */
  interfaceId: number;
  /** The interface's name, when the capture records one (pcapng `if_name`). */
  interfaceName?: string;
  linktype: number;
  captureLength: number;
  originalLength: number;
  /** The captured bytes (a view; stable — the reader never reuses a buffer it has handed out). */
  data: Uint8Array;
  /** pcapng packet comment, if any. */
  comment?: string;
}

/** Where a capture comes from: a file path, `-` for stdin, or a stream of bytes. */
export type CaptureSource = string | Readable | AsyncIterable<Uint8Array>;

/** An async iterable of records that also reports what it has seen. */
export interface CaptureReader extends AsyncIterable<CaptureRecord> {
  /** Counts so far (records, skipped by reason, other blocks). */
  readonly stats: ReaderStats;
  /** Interfaces of the current section. */
  readonly interfaces: readonly CaptureInterface[];
  /** `pcap` or `pcapng`, once the header has been read. */
  readonly format: 'pcap' | 'pcapng' | undefined;
}

function toRecord(c: CaptureCursor): CaptureRecord {
  const rec: CaptureRecord = {
    timestamp: c.timestamp,
    interfaceId: c.interfaceId,
    linktype: c.linktype,
    captureLength: c.captureLength,
    originalLength: c.originalLength,
    data: c.data,
  };
  const name = c.interfaces[c.interfaceId]?.name;
  if (name !== undefined) rec.interfaceName = name;
  if (c.comment !== undefined) rec.comment = c.comment;
  return rec;
}

function chunksOf(source: CaptureSource): AsyncIterable<Uint8Array> {
  if (typeof source === 'string') {
    return source === '-' ? process.stdin : readFile(source);
  }
  if (source === null || typeof source !== 'object' || !(Symbol.asyncIterator in source)) {
    throw new CaptureReadError(`a capture source is a path, '-' for standard input, or a stream of bytes (a Readable or async iterable of Uint8Array), not ${typeof source}`);
  }
  return source as AsyncIterable<Uint8Array>;
}

/** A file's chunks; failing to open or read it is a {@link CaptureReadError} naming the file. */
async function* readFile(path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Uint8Array;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CaptureReadError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message}`, { cause: e });
  }
}

/**
 * Feeds `cursor` the capture's bytes chunk by chunk, yielding after each feed so the caller can drain the
 * records; the last feed is marked final. The unread tail lives in `store[start, end)`: a chunk arriving while a
 * record is incomplete is appended after `end` when `store` is the reader's own and has room, else `store` is
 * replaced by one at least twice the pending size. Each byte is copied a bounded number of times — joining
 * pending + chunk into a fresh buffer per chunk was quadratic in the record size (a 64 MB record over stdin's
 * 64 KB chunks copied ~32 GB). Bytes before `end` are never written again: records handed out point into them.
 */
async function* buffersFor(source: CaptureSource, cursor: CaptureCursor): AsyncGenerator<void> {
  let store: Uint8Array = new Uint8Array(0);
  let owned = false;
  let start = 0;
  let end = 0;
  for await (const raw of chunksOf(source)) {
    const chunk = raw instanceof Uint8Array ? raw : new Uint8Array(raw as ArrayBuffer);
    if (chunk.length === 0) continue;
    if (start === end) {
      // Nothing pending: read the chunk where it is.
      store = chunk;
      owned = false;
      start = 0;
      end = chunk.length;
    } else if (owned && store.length - end >= chunk.length) {
      store.set(chunk, end);
      end += chunk.length;
    } else {
      const pending = end - start;
      const next = new Uint8Array(Math.max(pending + chunk.length, pending * 2, 1 << 16));
      next.set(store.subarray(start, end));
      next.set(chunk, pending);
      store = next;
      owned = true;
      start = 0;
      end = pending + chunk.length;
    }
    cursor.feed(store.subarray(start, end), false);
    yield;
    start += cursor.consumed;
  }
  cursor.feed(store.subarray(start, end), true);
  yield;
}

/** Records {@link scanCapture} visits between two turns of the event loop. */
const YIELD_EVERY = 512;

/**
 * Opens a capture for streaming. Memory stays bounded by the largest record plus one read chunk,
 * whatever the file size. Errors are {@link PcapFormatError} / {@link TruncatedCaptureError} (thrown from
 * the iteration, after every complete record before them) unless `onError: 'skip'`.
 */
export function openCapture(source: CaptureSource, options: ReaderOptions = {}): CaptureReader {
  const cursor = new CaptureCursor(options);
  return {
    get stats() {
      return cursor.stats;
    },
    get interfaces() {
      return cursor.interfaces;
    },
    get format() {
      return cursor.formatName;
    },
    async *[Symbol.asyncIterator]() {
      for await (const _ of buffersFor(source, cursor)) {
        while (cursor.next() === Next.RECORD) yield toRecord(cursor);
      }
    },
  };
}

/** Reads every record of an in-memory capture (allocates one record object each; see {@link CaptureCursor} for none). */
export function readCaptureSync(bytes: Uint8Array, options: ReaderOptions = {}): { records: CaptureRecord[]; stats: ReaderStats; interfaces: CaptureInterface[] } {
  const cursor = new CaptureCursor(options);
  cursor.feed(bytes, true);
  const records: CaptureRecord[] = [];
  while (cursor.next() === Next.RECORD) records.push(toRecord(cursor));
  return { records, stats: cursor.stats, interfaces: cursor.interfaces };
}

/**
 * Streams a capture through a callback that sees the {@link CaptureCursor} positioned on each record —
 * the constant-memory *and* allocation-free way through a large capture (the replay's way). The cursor's
 * fields are valid only during the call. Resolves with the reader's counts.
 */
export async function scanCapture(source: CaptureSource, visit: (record: CaptureCursor) => void, options: ReaderOptions = {}): Promise<{ stats: ReaderStats; interfaces: CaptureInterface[]; format: 'pcap' | 'pcapng' | undefined }> {
  const cursor = new CaptureCursor(options);
  let sinceYield = 0;
  for await (const _ of buffersFor(source, cursor)) {
    while (cursor.next() === Next.RECORD) {
      visit(cursor);
      // A chunk holds thousands of records: let the event loop run now and then (signal handlers, timers), so
      // Ctrl-C takes effect within a few thousand records rather than after the whole chunk.
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }
  return { stats: cursor.stats, interfaces: cursor.interfaces, format: cursor.formatName };
}
