/**
 * Corrupted captures through every reader entry point: records or a typed error with a file offset — never
 * another exception, never a hang (each loop is bounded by the bytes it was given), and in skip mode every
 * skipped thing counted.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureCursor, openCapture, PcapFormatError, readCaptureSync, scanCapture, TruncatedCaptureError } from '@vippath/pcap';
import { announce, budget, seed } from './budget.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const seeds = readdirSync(fixtures).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => new Uint8Array(readFileSync(fixtures + f)));

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'swap-order' };

const ABSURD = [0, 1, 3, 4, 0x7fffffff, 0xffffffff, 0xfffffff0, 65536, 262145, 12, 28, 32];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  // Absurd lengths and block-length lies: 32-bit words written over headers (record lengths, block totals).
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...ABSURD), fc.nat()) }),
  // Unknown blocks and junk between records.
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 40 }) }),
  fc.constant({ kind: 'swap-order' as const }),
);

function mutate(base: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = new Uint8Array(base);
  for (const m of muts) {
    if (b.length === 0) break;
    if (m.kind === 'flip') b[m.at % b.length]! ^= 1 << m.bit;
    else if (m.kind === 'truncate') b = b.slice(0, m.at % (b.length + 1));
    else if (m.kind === 'u32') {
      // Mostly aligned, as lengths are.
      const at = (m.at % Math.max(1, b.length - 3)) & ~3;
      if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, m.value >>> 0, m.at % 2 === 0);
    } else if (m.kind === 'insert') {
      const at = m.at % (b.length + 1);
      const n = new Uint8Array(b.length + m.bytes.length);
      n.set(b.subarray(0, at));
      n.set(m.bytes, at);
      n.set(b.subarray(at), at + m.bytes.length);
      b = n;
    } else if (b.length >= 4) b.subarray(0, 4).reverse();
  }
  return b;
}

const typed = (e: unknown): boolean => (e instanceof PcapFormatError || e instanceof TruncatedCaptureError) && Number.isInteger((e as PcapFormatError).offset) && (e as PcapFormatError).offset >= 0;

function cursorRun(bytes: Uint8Array, onError: 'stop' | 'skip'): void {
  const c = new CaptureCursor({ onError });
  c.feed(bytes, true);
  // Every record consumes at least 12 bytes of header: more steps than that means no progress.
  const bound = bytes.length / 12 + 16;
  for (let i = 0; ; i++) {
    if (i > bound) throw new Error('no progress: the cursor loops');
    if (c.next() !== 1) break;
    expect(c.dataOffset + c.captureLength).toBeLessThanOrEqual(bytes.length);
  }
}

describe('corrupted captures', () => {
  const runs = budget(2000);
  it(`every entry point: records or a typed error with an offset (${runs} files)`, async () => {
    announce('pcap', runs, 'corrupted captures × 4 entry points');
    let errors = 0;
    let skipped = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (which, muts) => {
        const bytes = mutate(seeds[which]!, muts);
        for (const onError of ['stop', 'skip'] as const) {
          try {
            const r = readCaptureSync(bytes, { onError });
            for (const rec of r.records) expect(rec.data.length).toBeLessThanOrEqual(bytes.length);
            skipped += Object.values(r.stats.skipped).reduce((a, b) => a + b, 0);
          } catch (e) {
            if (!typed(e)) throw e;
            errors++;
          }
          try {
            cursorRun(bytes, onError);
          } catch (e) {
            if (!typed(e)) throw e;
          }
        }
        try {
          await scanCapture(Readable.from([bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]), () => undefined);
        } catch (e) {
          if (!typed(e)) throw e;
        }
        try {
          for await (const _ of openCapture(Readable.from([bytes]), { onError: 'skip' })) void _;
        } catch (e) {
          if (!typed(e)) throw e;
        }
      }),
      { numRuns: runs, seed },
    );
    // Not vacuous: corruption was met and reported, and skip mode skipped things.
    expect(errors).toBeGreaterThan(runs / 10);
    expect(skipped).toBeGreaterThan(0);
  }, 600_000);

  it('a record claiming 4 GB is refused without allocating it', () => {
    const b = new Uint8Array(seeds[0]!.slice(0, 24 + 16));
    new DataView(b.buffer).setUint32(24 + 8, 0xffffffff, true);
    new DataView(b.buffer).setUint32(24 + 12, 0xffffffff, true);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => readCaptureSync(b)).toThrow(PcapFormatError);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });
});
