import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse as pcapParserParse, type PcapParserPacket } from 'pcap-parser';
import { describe, expect, it } from 'vitest';
import { VippathError } from '@vippath/wire';
import { CaptureCursor, MAX_RECORD_BYTES, Next } from './cursor.js';
import { PcapFormatError, TruncatedCaptureError } from './errors.js';
import { linkHeaderLength, linkProtocol, LinkType } from './linktype.js';
import { openCapture, readCaptureSync, scanCapture, type CaptureRecord } from './reader.js';
import { classicFile, concat, pcapngBlock, pcapngSection, type RawRecord } from './capture-helpers.test-helpers.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fixtures + name));

async function collect(iter: AsyncIterable<CaptureRecord>): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of iter) out.push(r);
  return out;
}

function chunked(bytes: Uint8Array, sizes: number[]): Readable {
  const parts: Uint8Array[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    parts.push(bytes.slice(at, at + n));
    at += n;
  }
  return Readable.from(parts);
}

const recordArb = fc.record({
  seconds: fc.integer({ min: 0, max: 0xffffffff }),
  fraction: fc.integer({ min: 0, max: 999_999 }),
  data: fc.uint8Array({ minLength: 0, maxLength: 120 }),
});

describe('classic pcap', () => {
  it('reads the same records as pcap-parser (the reference) on the real capture', async () => {
    const path = fixtures + 'vip-ipv4.pcap';
    const reference = await new Promise<PcapParserPacket[]>((resolve, reject) => {
      const got: PcapParserPacket[] = [];
      const p = pcapParserParse(path);
      p.on('packet', (pkt: PcapParserPacket) => got.push(pkt));
      p.on('error', reject);
      p.on('end', () => resolve(got));
    });
    const ours = await collect(openCapture(path));
    expect(ours.length).toBe(reference.length);
    expect(ours.length).toBeGreaterThan(30);
    ours.forEach((r, i) => {
      const ref = reference[i]!;
      expect(r.timestamp).toBe(BigInt(ref.header.timestampSeconds) * 1_000_000_000n + BigInt(ref.header.timestampMicroseconds) * 1000n);
      expect(r.captureLength).toBe(ref.header.capturedLength);
      expect(r.originalLength).toBe(ref.header.originalLength);
      expect(Buffer.from(r.data).equals(ref.data)).toBe(true);
      expect(r.linktype).toBe(LinkType.EN10MB);
    });
  });

  it('reads both byte orders and both time resolutions identically', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), fc.boolean(), fc.boolean(), (recs, little, ns) => {
        const file = classicFile(recs, { little, nanosecond: ns });
        const { records } = readCaptureSync(file);
        expect(records.length).toBe(recs.length);
        records.forEach((r, i) => {
          const src = recs[i]!;
          expect(r.timestamp).toBe(BigInt(src.seconds) * 1_000_000_000n + BigInt(ns ? src.fraction : src.fraction * 1000));
          expect(Array.from(r.data)).toEqual(Array.from(src.data));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('streams identically whatever the chunking (constant-memory reader)', async () => {
    const file = fixture('vip-ipv4.pcap');
    const whole = readCaptureSync(file).records;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        const streamed = await collect(openCapture(chunked(file, sizes)));
        expect(streamed.map((r) => [r.timestamp, Buffer.from(r.data).toString('hex')])).toEqual(whole.map((r) => [r.timestamp, Buffer.from(r.data).toString('hex')]));
      }),
      { numRuns: 40 },
    );
  });
});

describe('pcapng', () => {
  it('reads the real capture converted by editcap like the classic original', () => {
    const a = readCaptureSync(fixture('vip-ipv4.pcap')).records;
    const b = readCaptureSync(fixture('vip-ipv4.pcapng')).records;
    expect(b.map((r) => [r.timestamp, Buffer.from(r.data).toString('hex')])).toEqual(a.map((r) => [r.timestamp, Buffer.from(r.data).toString('hex')]));
  });

  it('handles both byte orders, several IDBs with their own linktype and if_tsresol (10^-n and 2^-n), and several sections', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ tsresol: fc.constantFrom(undefined, 3, 6, 9, 0x80 | 10, 0x80 | 20), linktype: fc.constantFrom(1, 113, 276), name: fc.constantFrom(undefined, 'node1/underlay0', 'eth0') }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ iface: fc.nat(), units: fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), data: fc.uint8Array({ maxLength: 80 }) }), { maxLength: 10 }),
        fc.boolean(),
        fc.boolean(),
        (ifaces, pkts, little, twoSections) => {
          const packets = pkts.map((p) => ({ interfaceId: p.iface % ifaces.length, units: p.units, data: p.data }));
          const section = pcapngSection(ifaces, packets, little);
          const file = twoSections ? concat([section, pcapngSection(ifaces, packets, !little)]) : section;
          const { records, stats } = readCaptureSync(file);
          expect(stats.sections).toBe(twoSections ? 2 : 1);
          const expected = twoSections ? [...packets, ...packets] : packets;
          expect(records.length).toBe(expected.length);
          records.forEach((r, i) => {
            const p = expected[i]!;
            const iface = ifaces[p.interfaceId]!;
            const res = iface.tsresol ?? 6;
            const perSecond = res & 0x80 ? 1n << BigInt(res & 0x7f) : 10n ** BigInt(res);
            const ns = (p.units / perSecond) * 1_000_000_000n + ((p.units % perSecond) * 1_000_000_000n) / perSecond;
            expect(r.timestamp).toBe(ns);
            expect(r.interfaceId).toBe(p.interfaceId);
            expect(r.linktype).toBe(iface.linktype);
            expect(r.interfaceName).toBe(iface.name);
            expect(Array.from(r.data)).toEqual(Array.from(p.data));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('skips blocks it does not read (name resolution, statistics, custom) and counts them', () => {
    const file = concat([
      pcapngSection([{}], [{ interfaceId: 0, units: 5n, data: Uint8Array.of(1, 2, 3) }], true),
      pcapngBlock(4, new Uint8Array(8), true),
      pcapngBlock(5, new Uint8Array(20), true),
      pcapngBlock(0x40000bad, new Uint8Array(4), true),
    ]);
    const { records, stats } = readCaptureSync(file);
    expect(records.length).toBe(1);
    expect(stats.otherBlocks).toBe(3);
  });
});

describe('link types', () => {
  it('exposes the LINUX_SLL2 and LINUX_SLL headers of real `tcpdump -i any` captures', () => {
    const { records } = readCaptureSync(fixture('vip-ipv4-sll2.pcap'));
    expect(records.length).toBeGreaterThan(3);
    for (const r of records) {
      expect(r.linktype).toBe(LinkType.LINUX_SLL2);
      expect([0x0800, 0x0806]).toContain(linkProtocol(r.linktype, r.data));
    }
    expect(linkHeaderLength(LinkType.LINUX_SLL2)).toBe(20);
    const sll = readCaptureSync(fixture('vip-ipv4-sll.pcap')).records;
    expect(sll.length).toBeGreaterThan(3);
    for (const r of sll) {
      expect(r.linktype).toBe(LinkType.LINUX_SLL);
      expect([0x0800, 0x0806]).toContain(linkProtocol(r.linktype, r.data));
    }
    expect(linkHeaderLength(LinkType.LINUX_SLL)).toBe(16);
  });
});

describe('bad input', () => {
  const good = classicFile([{ seconds: 1, fraction: 2, data: new Uint8Array(60) }], { little: true });

  function error(bytes: Uint8Array, onError: 'stop' | 'skip' = 'stop'): VippathError {
    try {
      readCaptureSync(bytes, { onError });
    } catch (e) {
      expect(e).toBeInstanceOf(VippathError);
      return e as VippathError;
    }
    throw new Error('expected an error');
  }

  it('wrong magic, with the offset', () => {
    const e = error(Uint8Array.from([1, 2, 3, 4, ...new Uint8Array(30)]));
    expect(e).toBeInstanceOf(PcapFormatError);
    expect(e.code).toBe('BAD_MAGIC');
    expect((e as PcapFormatError).offset).toBe(0);
  });

  it('truncated file header and truncated record, after delivering the complete records', async () => {
    expect(error(good.subarray(0, 10)).code).toBe('TRUNCATED_HEADER');
    const two = classicFile([{ seconds: 1, fraction: 0, data: new Uint8Array(60) }, { seconds: 2, fraction: 0, data: new Uint8Array(60) }], { little: true });
    const cut = two.subarray(0, two.length - 7);
    const seen: CaptureRecord[] = [];
    let thrown: unknown;
    try {
      for await (const r of openCapture(Readable.from([cut]))) seen.push(r);
    } catch (e) {
      thrown = e;
    }
    expect(seen.length).toBe(1);
    expect(thrown).toBeInstanceOf(TruncatedCaptureError);
    expect((thrown as TruncatedCaptureError).records).toBe(1);
    expect((thrown as TruncatedCaptureError).offset).toBe(24 + 76);
    const skipped = readCaptureSync(cut, { onError: 'skip' });
    expect(skipped.records.length).toBe(1);
    expect(skipped.stats.skipped.TRUNCATED_CAPTURE).toBe(1);
  });

  it('a record claiming 4 GB is refused without allocating it', () => {
    const f = good.slice();
    new DataView(f.buffer).setUint32(24 + 8, 0xfffffff0, true);
    const before = process.memoryUsage().arrayBuffers;
    const e = error(f);
    expect(e.code).toBe('RECORD_TOO_LARGE');
    expect((e as PcapFormatError).offset).toBe(32);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(MAX_RECORD_BYTES / 4);
  });

  it('caplen beyond snaplen or origlen: error, or skipped and counted', () => {
    const f = classicFile([{ seconds: 1, fraction: 0, data: new Uint8Array(100) }, { seconds: 2, fraction: 0, data: new Uint8Array(10) }], { little: false, snaplen: 64 });
    expect(error(f).code).toBe('CAPLEN_EXCEEDS_SNAPLEN');
    const r = readCaptureSync(f, { onError: 'skip' });
    expect(r.records.length).toBe(1);
    expect(r.stats.skipped.CAPLEN_EXCEEDS_SNAPLEN).toBe(1);
    const g = classicFile([{ seconds: 1, fraction: 0, data: new Uint8Array(10), originalLength: 5 }], { little: true });
    expect(error(g).code).toBe('CAPLEN_EXCEEDS_ORIGLEN');
  });

  it('unknown linktype', () => {
    expect(error(classicFile([], { little: true, linktype: 147 })).code).toBe('UNSUPPORTED_LINKTYPE');
    expect(readCaptureSync(classicFile([], { little: true, linktype: 147 }), { linktypes: [147] }).records).toEqual([]);
  });

  it('pcapng block length lies and undefined interfaces', () => {
    const section = pcapngSection([{}], [{ interfaceId: 0, units: 1n, data: Uint8Array.of(1, 2, 3, 4) }], true);
    const mismatch = concat([section, pcapngBlock(6, new Uint8Array(24), true, 99)]);
    expect(error(mismatch).code).toBe('BLOCK_LENGTH_MISMATCH');
    const skip = readCaptureSync(mismatch, { onError: 'skip' });
    expect(skip.records.length).toBe(1);
    expect(skip.stats.skipped.BLOCK_LENGTH_MISMATCH).toBe(1);
    const badLen = section.slice();
    new DataView(badLen.buffer).setUint32(4, 13, true);
    expect(error(badLen).code).toBe('BLOCK_LENGTH');
    const orphan = pcapngSection([{}], [{ interfaceId: 3, units: 1n, data: Uint8Array.of(1) }], false);
    const e = error(orphan);
    expect(e.code).toBe('UNKNOWN_INTERFACE');
    expect(e.message).toMatch(/interface 3/);
  });

  it('fuzz: bit flips, truncations and absurd lengths give typed errors or records, never anything else, never a hang', () => {
    const bases = [fixture('vip-ipv4.pcap'), fixture('vip-ipv4.pcapng'), fixture('vip-ipv6.pcap')];
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), fc.constantFrom<'stop' | 'skip'>('stop', 'skip'), (which, flips, cut, onError) => {
        const f = bases[which]!.slice();
        for (const [at, v] of flips) f[at % f.length] = v;
        const bytes = f.subarray(0, cut % (f.length + 1));
        try {
          const { records } = readCaptureSync(bytes, { onError });
          for (const r of records) expect(r.data.length).toBe(r.captureLength);
        } catch (e) {
          expect(e).toBeInstanceOf(VippathError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('CaptureCursor (zero-allocation path)', () => {
  it('exposes records through fields over the buffer', () => {
    const recs: RawRecord[] = [{ seconds: 10, fraction: 5, data: Uint8Array.of(9, 8, 7) }];
    const cursor = new CaptureCursor();
    cursor.feed(classicFile(recs, { little: true }), true);
    expect(cursor.next()).toBe(Next.RECORD);
    expect(cursor.seconds).toBe(10);
    expect(cursor.nanos).toBe(5000);
    expect(Array.from(cursor.buffer.subarray(cursor.dataOffset, cursor.dataOffset + cursor.captureLength))).toEqual([9, 8, 7]);
    expect(cursor.next()).toBe(Next.NEED_MORE);
  });
});

describe('scanCapture (streaming, allocation-free)', () => {
  it('visits the same records as openCapture, whatever the chunking', async () => {
    const file = fixture('vip-ipv6.pcap');
    const expected = readCaptureSync(file).records.map((r) => `${r.timestamp}:${Buffer.from(r.data).toString('hex')}`);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 5 }), async (sizes) => {
        const seen: string[] = [];
        const result = await scanCapture(chunked(file, sizes), (c) => {
          seen.push(`${c.timestamp}:${Buffer.from(c.buffer.subarray(c.dataOffset, c.dataOffset + c.captureLength)).toString('hex')}`);
        });
        expect(seen).toEqual(expected);
        expect(result.stats.records).toBe(expected.length);
        expect(result.format).toBe('pcap');
      }),
      { numRuns: 30 },
    );
  });
});
