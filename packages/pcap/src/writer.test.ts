import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureSync } from './reader.js';
import { addNanoseconds, CaptureWriteError, fileSink, memorySink, PcapngWriter, PcapWriter } from './writer.js';

const hasTshark = spawnSync('tshark', ['--version']).status === 0;
if (!hasTshark) console.warn('tshark not found: the "tshark opens what we write" checks are skipped (install tshark; CI does)');
const dir = mkdtempSync(join(tmpdir(), 'vippath-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recArb = fc.record({
  timestamp: fc.bigInt({ min: 0n, max: 0xffffffffn * 1_000_000_000n }),
  data: fc.uint8Array({ minLength: 14, maxLength: 200 }),
  extra: fc.integer({ min: 0, max: 100 }),
});

describe('writers round-trip through the reader', () => {
  it('pcap (µs and ns)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recArb, { maxLength: 15 }), fc.boolean(), async (recs, ns) => {
        const sink = memorySink();
        const w = new PcapWriter(sink, { nanosecond: ns });
        for (const r of recs) w.write({ timestamp: r.timestamp, data: r.data, originalLength: r.data.length + r.extra });
        await w.close();
        const back = readCaptureSync(sink.bytes()).records;
        expect(back.length).toBe(recs.length);
        back.forEach((b, i) => {
          const r = recs[i]!;
          expect(b.timestamp).toBe(ns ? r.timestamp : (r.timestamp / 1000n) * 1000n);
          expect(b.originalLength).toBe(r.data.length + r.extra);
          expect(Array.from(b.data)).toEqual(Array.from(r.data));
        });
      }),
      { numRuns: 100 },
    );
  });

  it('pcapng with several interfaces, names and comments', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(recArb, fc.integer({ min: 0, max: 2 }), fc.option(fc.string({ maxLength: 20 }), { nil: undefined })), { maxLength: 15 }), async (recs) => {
        const sink = memorySink();
        const w = new PcapngWriter(sink, [{ name: 'node1/underlay0' }, { name: 'node2/underlay0', description: 'node2 NIC' }, {}]);
        for (const [r, id, comment] of recs) w.write({ timestamp: r.timestamp, data: r.data, interfaceId: id, ...(comment !== undefined ? { comment } : {}) });
        await w.close();
        const { records, interfaces } = readCaptureSync(sink.bytes());
        expect(interfaces.map((i) => i.name)).toEqual(['node1/underlay0', 'node2/underlay0', undefined]);
        expect(interfaces[1]!.description).toBe('node2 NIC');
        records.forEach((b, i) => {
          const [r, id, comment] = recs[i]!;
          expect(b.timestamp).toBe(r.timestamp);
          expect(b.interfaceId).toBe(id);
          expect(b.comment).toBe(comment);
          expect(Array.from(b.data)).toEqual(Array.from(r.data));
        });
      }),
      { numRuns: 100 },
    );
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => new PcapngWriter(memorySink(), [])).toThrow(CaptureWriteError);
    const w = new PcapngWriter(memorySink(), [{}]);
    expect(() => w.write({ timestamp: 0n, data: new Uint8Array(20), interfaceId: 1 })).toThrow(/interface 1 was not declared/);
    expect(() => w.write({ timestamp: 0n, data: new Uint8Array(20), originalLength: 3 })).toThrow(/originalLength 3/);
  });

  it('file sinks write to a temporary name and rename on close; abort leaves an earlier file intact', async () => {
    const path = join(dir, 'keep.pcap');
    writeFileSync(path, 'earlier report');
    const w = new PcapWriter(fileSink(path));
    w.write({ timestamp: 1n, data: new Uint8Array(60) });
    expect(readFileSync(path, 'utf8')).toBe('earlier report');
    w.abort();
    expect(readFileSync(path, 'utf8')).toBe('earlier report');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const w2 = new PcapWriter(path);
    w2.write({ timestamp: 1n, data: new Uint8Array(60) });
    await w2.close();
    expect(readCaptureSync(new Uint8Array(readFileSync(path))).records.length).toBe(1);
  });
});

describe.skipIf(!hasTshark)('tshark opens what we write, without warnings', () => {
  it('pcapng with interface names and comments; pcap in µs and ns', async () => {
    const frames = [0, 1, 2, 3].map((i) => {
      const f = new Uint8Array(60);
      f.fill(0xff, 0, 6);
      f[6] = 0x52;
      f[11] = i;
      f[12] = 0x08;
      f[13] = 0x06;
      return f;
    });
    const ng = join(dir, 'out.pcapng');
    const w = new PcapngWriter(ng, [{ name: 'node1/underlay0' }, { name: 'outside' }]);
    frames.forEach((data, i) => w.write({ timestamp: 1_700_000_000_123_456_789n + BigInt(i), data, interfaceId: i % 2, comment: `frame ${i}` }));
    await w.close();
    const run = (file: string, fields: string[]): string[] => {
      const r = spawnSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      // Only the root warning is tolerated.
      expect(r.stderr.split('\n').filter((l) => l.trim() && !/Running as user "root"/.test(l))).toEqual([]);
      return r.stdout.trim().split('\n');
    };
    expect(run(ng, ['frame.number', 'frame.interface_name', 'frame.comment', 'frame.time_epoch'])).toEqual([
      '1\tnode1/underlay0\tframe 0\t1700000000.123456789',
      '2\toutside\tframe 1\t1700000000.123456790',
      '3\tnode1/underlay0\tframe 2\t1700000000.123456791',
      '4\toutside\tframe 3\t1700000000.123456792',
    ]);
    for (const ns of [false, true]) {
      const p = join(dir, `out-${ns}.pcap`);
      const pw = new PcapWriter(p, { nanosecond: ns });
      frames.forEach((data, i) => pw.write({ timestamp: 1_700_000_000_123_456_789n + BigInt(i), data }));
      await pw.close();
      const lines = run(p, ['frame.len', 'frame.time_epoch']);
      expect(lines.length).toBe(4);
      expect(lines[0]).toBe(ns ? '60\t1700000000.123456789' : '60\t1700000000.123456000');
    }
    const info = execFileSync('capinfos', ['-c', ng], { encoding: 'utf8' });
    expect(info).toMatch(/Number of packets:\s+4/);
  });
});

/** An Enhanced Packet Block as the pcapng spec lays it out (draft-ietf-opsawg-pcapng §4.3), little-endian. */
function referenceEpb(id: number, ts: bigint, data: Uint8Array, orig: number, comment?: string): Uint8Array {
  const text = comment === undefined ? new Uint8Array(0) : new TextEncoder().encode(comment);
  const opts = comment === undefined ? 0 : 4 + ((text.length + 3) & ~3) + 4;
  const padded = (data.length + 3) & ~3;
  const out = new Uint8Array(32 + padded + opts);
  const v = new DataView(out.buffer);
  const t = BigInt.asUintN(64, ts);
  v.setUint32(0, 6, true);
  v.setUint32(4, out.length, true);
  v.setUint32(8, id, true);
  v.setUint32(12, Number(t >> 32n), true);
  v.setUint32(16, Number(t & 0xffffffffn), true);
  v.setUint32(20, data.length, true);
  v.setUint32(24, orig, true);
  out.set(data, 28);
  if (comment !== undefined) {
    v.setUint16(28 + padded, 1, true);
    v.setUint16(30 + padded, text.length, true);
    out.set(text, 32 + padded);
  }
  v.setUint32(out.length - 4, out.length, true);
  return out;
}

describe('PcapngWriter.writePacket and addNanoseconds (the replay\'s per-packet way)', () => {
  const SEED = 20261202;
  const ifaces = [{ name: 'a' }, { name: 'b', snaplen: 20 }];
  const headerLength = (() => {
    const s = memorySink();
    new PcapngWriter(s, ifaces);
    return s.bytes().length;
  })();

  it(`fileSink.writeRange copies ranges of views of a few buffers in order, across its chunk's end (seed ${SEED})`, async () => {
    let n = 0;
    // Views at odd offsets into shared buffers (more buffers than the sink keeps views of), ranges of any length.
    const backing = Array.from({ length: 6 }, (_, b) => Uint8Array.from({ length: 90000 }, (_, i) => (i * 31 + b * 7) & 0xff));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ buf: fc.nat({ max: 5 }), viewAt: fc.nat({ max: 9 }), at: fc.nat({ max: 50 }), length: fc.oneof(fc.nat({ max: 200 }), fc.integer({ min: 20000, max: 70000 })), plain: fc.boolean() }), { maxLength: 20 }),
        async (ops) => {
          const path = join(dir, `range-${n++}.bin`);
          const sink = fileSink(path);
          const expected: number[] = [];
          for (const o of ops) {
            const view = backing[o.buf]!.subarray(o.viewAt, o.viewAt + o.at + o.length + 5);
            const range = view.subarray(o.at, o.at + o.length);
            if (o.plain) sink.write(range.slice());
            else sink.writeRange!(view, o.at, o.length);
            for (const b of range) expected.push(b);
          }
          await sink.close();
          const got = readFileSync(path);
          expect(got.length).toBe(expected.length);
          expect(Buffer.compare(got, Buffer.from(expected))).toBe(0);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it(`writes what the spec lays out, for write() and writePacket() alike, into memory and file sinks (seed ${SEED})`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 1 }), ts: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), data: fc.uint8Array({ maxLength: 40 }), before: fc.nat({ max: 5 }), comment: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }) }), { maxLength: 12 }),
        async (recs) => {
          const viaWrite = memorySink();
          const viaPacket = memorySink();
          const path = join(dir, `packet-${n++}.pcapng`);
          const viaFile = fileSink(path);
          const expected: Uint8Array[] = [];
          const w1 = new PcapngWriter(viaWrite, ifaces);
          const w2 = new PcapngWriter(viaPacket, ifaces);
          const w3 = new PcapngWriter(viaFile, ifaces);
          for (const r of recs) {
            const caplen = Math.min(r.data.length, r.id === 1 ? 20 : 262144);
            w1.write({ timestamp: r.ts, data: r.data, interfaceId: r.id, ...(r.comment !== undefined ? { comment: r.comment } : {}) });
            expected.push(referenceEpb(r.id, r.ts, r.data.subarray(0, caplen), r.data.length, r.comment));
            if (r.comment !== undefined) continue;
            // The packet in a larger buffer, bytes on both sides that are not its own.
            const buf = new Uint8Array(r.before + r.data.length + 3).fill(0xee);
            buf.set(r.data, r.before);
            const t = BigInt.asUintN(64, r.ts);
            w2.writePacket(r.id, Number(t >> 32n), Number(t & 0xffffffffn), buf, r.before, r.data.length);
            w3.writePacket(r.id, Number(t >> 32n), Number(t & 0xffffffffn), buf, r.before, r.data.length);
          }
          await Promise.all([w1.close(), w2.close(), w3.close()]);
          const join_ = (parts: Uint8Array[]): number[] => parts.flatMap((p) => [...p]);
          expect([...viaWrite.bytes().subarray(headerLength)]).toEqual(join_(expected));
          const plain = recs.map((r, i) => [r, expected[i]!] as const).filter(([r]) => r.comment === undefined).map(([, e]) => e);
          expect([...viaPacket.bytes().subarray(headerLength)]).toEqual(join_(plain));
          expect([...readFileSync(path).subarray(headerLength)]).toEqual(join_(plain));
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it(`a file sink lays packet blocks into its buffer as the blocks' own writes would, across its chunk's end, aligned or not (seed ${SEED})`, async () => {
    let n = 0;
    // Packets of every length modulo 4 (and some longer than the sink's 64 KiB chunk), views at any offset into more
    // buffers than the sink keeps views of, or arrays of their own, and records written the general way (with a
    // comment) between them.
    const backing = Array.from({ length: 6 }, (_, b) => Uint8Array.from({ length: 80000 }, (_, i) => (i * 13 + b * 101 + 7) & 0xff));
    const packet = fc.record({
      buf: fc.nat({ max: 5 }),
      viewAt: fc.nat({ max: 7 }),
      at: fc.nat({ max: 9 }),
      length: fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 65000, max: 70000 }) }),
      id: fc.integer({ min: 0, max: 1 }),
      ts: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      comment: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('x', 'hello') }),
      // The packet as an array of its own (a replay's frames), at any alignment: copied whole, not by words.
      whole: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 700 }), async (ps) => {
        const path = join(dir, `blocks-${n++}.pcapng`);
        const mem = memorySink();
        const wm = new PcapngWriter(mem, ifaces);
        const wf = new PcapngWriter(fileSink(path), ifaces);
        for (const p of ps) {
          const view = backing[p.buf]!.subarray(p.viewAt, p.viewAt + p.at + p.length + 3);
          const hi = Number(p.ts >> 32n);
          const lo = Number(p.ts & 0xffffffffn);
          if (p.comment !== undefined) {
            const rec = { timestamp: p.ts, data: view.subarray(p.at, p.at + p.length), interfaceId: p.id, comment: p.comment };
            wm.write(rec);
            wf.write(rec);
          } else if (p.whole) {
            const own = view.subarray(p.at, p.at + p.length);
            wm.writePacket(p.id, hi, lo, own, 0, p.length);
            wf.writePacket(p.id, hi, lo, own, 0, p.length);
          } else {
            wm.writePacket(p.id, hi, lo, view, p.at, p.length);
            wf.writePacket(p.id, hi, lo, view, p.at, p.length);
          }
        }
        await Promise.all([wm.close(), wf.close()]);
        expect(Buffer.compare(readFileSync(path), Buffer.from(mem.bytes()))).toBe(0);
      }),
      { seed: SEED, numRuns: 40 },
    );
  }, 60_000);

  it(`addNanoseconds is BigInt.asUintN(64, base + delta) for any base and any whole delta, beyond 2^53 too (seed ${SEED})`, () => {
    const words = new Uint32Array(2);
    const delta = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ min: -1e22, max: 1e22, noNaN: true }).map(Math.round), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 64, -(2 ** 32)));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), delta, (base, d) => {
        addNanoseconds(words, Number(base >> 32n), Number(base & 0xffffffffn), d);
        const want = BigInt.asUintN(64, base + BigInt(d));
        expect([words[0], words[1]]).toEqual([Number(want >> 32n), Number(want & 0xffffffffn)]);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('refuses bad arguments with a coded error (CAPTURE_WRITE)', () => {
    const w = new PcapngWriter(memorySink(), ifaces);
    const data = new Uint8Array(10);
    const bad: Array<() => void> = [
      () => w.writePacket(2, 0, 0, data, 0, 10),
      () => w.writePacket(-1, 0, 0, data, 0, 10),
      () => w.writePacket(0, 0, 0, data, 4, 7),
      () => w.writePacket(0, 0, 0, data, -1, 2),
      () => w.writePacket(0, 0, 0, data, 0.5, 2),
      () => w.writePacket(0, 0, 0, 'abc' as unknown as Uint8Array, 0, 2),
      () => w.writePacket(0, 2 ** 32, 0, data, 0, 10),
      () => w.writePacket(0, 0, -1, data, 0, 10),
      () => w.writePacket(0, 0, Number.NaN, data, 0, 10),
      () => addNanoseconds(new Uint32Array(2), 0, 0, 1.5),
      () => addNanoseconds(new Uint32Array(2), 0, 0, Number.POSITIVE_INFINITY),
    ];
    for (const f of bad) {
      expect(f).toThrow(CaptureWriteError);
      try {
        f();
      } catch (e) {
        expect((e as CaptureWriteError).code).toBe('CAPTURE_WRITE');
      }
    }
  });
});
