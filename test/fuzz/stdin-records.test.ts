/**
 * Issue 19 item 8: a large record arriving in small chunks (stdin gives 64 KB at a time) was quadratic: the
 * reader joined the pending bytes and each new chunk into a fresh buffer. Measured here without a clock: the
 * bytes the reader copies (Uint8Array.prototype.set, spied) must stay within a small multiple of the input.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memorySink, PcapWriter, scanCapture } from '@vippath/pcap';
import { synFrame } from './capture-helpers.js';

const cli = fileURLToPath(new URL('../../packages/vippath/dist/cli.js', import.meta.url));

/** A pcap whose second record is `size` bytes (a frame padded out), between two ordinary ones. */
function bigRecordCapture(size: number): Uint8Array {
  const sink = memorySink();
  const w = new PcapWriter(sink, { snaplen: size });
  const big = new Uint8Array(size);
  big.set(synFrame());
  w.write({ timestamp: 1_000_000_000n, data: synFrame(40001) });
  w.write({ timestamp: 2_000_000_000n, data: big });
  w.write({ timestamp: 3_000_000_000n, data: synFrame(40002) });
  return sink.bytes();
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

afterEach(() => vi.restoreAllMocks());

describe('large records in small chunks', () => {
  for (const mb of [16, 32]) {
    it(`a ${mb} MB record in 64 KB chunks: every record read, bytes copied linear in the input`, async () => {
      const bytes = bigRecordCapture(mb << 20);
      let copied = 0;
      const set = Uint8Array.prototype.set;
      vi.spyOn(Uint8Array.prototype, 'set').mockImplementation(function (this: Uint8Array, array: ArrayLike<number>, offset?: number) {
        copied += array.length;
        return set.call(this, array, offset);
      });
      const lengths: number[] = [];
      await scanCapture(chunked(bytes, 64 << 10), (rec) => void lengths.push(rec.captureLength));
      vi.restoreAllMocks();
      expect(lengths).toEqual([synFrame().length, mb << 20, synFrame().length]);
      // Doubling copies each byte about twice; the old join copied ~(record / chunk) / 2 times the record.
      expect(copied).toBeLessThanOrEqual(4 * bytes.length);
    }, 120_000);
  }

  it('through the CLI on stdin: a 64 MB record is read and replayed', () => {
    const bytes = bigRecordCapture(64 << 20);
    const r = spawnSync(process.execPath, [cli, 'replay', '-', '--json'], { input: bytes, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 120_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { framesRead: number }).framesRead).toBe(3);
  }, 150_000);
});
