import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureSync } from './reader.js';
import { CaptureWriteError, fileSink, memorySink, PcapngWriter, PcapWriter } from './writer.js';

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
