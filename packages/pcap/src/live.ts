/**
 * Live capture through the optional native addon `cap` (libpcap), behind the same record iterator as
 * files. libpcap's per-packet timestamps are not exposed by `cap`'s 'packet' event, so records are
 * stamped with the wall clock at delivery (documented deviation from a file's timestamps).
 */
import { createRequire } from 'node:module';
import type { CaptureRecord } from './reader.js';
import { LiveCaptureError } from './errors.js';
import { LinkType } from './linktype.js';

/** Options of {@link openLive}. */
export interface LiveOptions {
  /** Interface name, e.g. `eth0` or `veth-client`. */
  device: string;
  /** A pcap-filter(7) expression; empty for everything. */
  filter?: string;
  /** Largest frame kept, in bytes (default 65535). */
  snaplen?: number;
  /** libpcap's kernel buffer, in bytes (default 10 MiB). */
  bufferSize?: number;
}

/** A running live capture: iterate it for records, `close()` to stop. */
export interface LiveCapture extends AsyncIterable<CaptureRecord> {
  readonly linktype: number;
  close(): void;
}

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
}

const LINKTYPES: Record<string, number> = { ETHERNET: LinkType.EN10MB, LINUX_SLL: LinkType.LINUX_SLL, LINUX_SLL2: LinkType.LINUX_SLL2 };

function loadCap(): { Cap: new () => CapInstance } {
  try {
    return createRequire(import.meta.url)('cap') as { Cap: new () => CapInstance };
  } catch (cause) {
    throw new LiveCaptureError(
      'LIVE_UNAVAILABLE',
      'live capture needs the optional native dependency `cap` (libpcap); install libpcap-dev (Debian/Ubuntu) and reinstall so that it builds',
      { cause },
    );
  }
}

/** True when the `cap` addon can be loaded here. */
export function liveCaptureAvailable(): boolean {
  try {
    loadCap();
    return true;
  } catch {
    return false;
  }
}

/** Starts capturing on a device. Throws {@link LiveCaptureError} when `cap` is missing or the device cannot be opened. */
export function openLive(options: LiveOptions): LiveCapture {
  const { Cap } = loadCap();
  const cap = new Cap();
  const buffer = Buffer.alloc(options.snaplen ?? 65535);
  let linkName: string;
  try {
    linkName = cap.open(options.device, options.filter ?? '', options.bufferSize ?? 10 * 1024 * 1024, buffer);
  } catch (cause) {
    throw new LiveCaptureError('LIVE_OPEN', `cannot capture on ${JSON.stringify(options.device)}: ${(cause as Error).message} (needs root or CAP_NET_RAW)`, { cause });
  }
  const linktype = LINKTYPES[linkName] ?? 0;
  const queue: CaptureRecord[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  cap.on('packet', (nbytes: number) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const caplen = Math.min(nbytes, buffer.length);
    queue.push({ timestamp: now, interfaceId: 0, interfaceName: options.device, linktype, captureLength: caplen, originalLength: nbytes, data: Uint8Array.prototype.slice.call(buffer, 0, caplen) });
    wake?.();
  });
  return {
    linktype,
    close() {
      if (closed) return;
      closed = true;
      cap.close();
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      while (!closed || queue.length > 0) {
        const rec = queue.shift();
        if (rec) {
          yield rec;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}
