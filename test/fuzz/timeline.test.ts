/**
 * Issue 19 items 1 and 2: the summary's timeline is bounded whatever the gaps between capture timestamps —
 * two frames 0xffffffff s apart, a pcapng simple packet block (no timestamp) before a normal one, a capture
 * longer than a day with --report. The timeline keeps at most TIMELINE_BINS bins, widening them as the
 * capture's span grows; the report draws from it without spreading it into Math.max.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, replayCapture, TIMELINE_BINS, type ReplaySummary } from '@vippath/cluster';
import { memorySink, PcapngWriter } from '@vippath/pcap';
import { bytesSource, pcapAt, synFrame } from './capture-helpers.js';

const cli = fileURLToPath(new URL('../../packages/vippath/dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vippath-timeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frames(s: ReplaySummary): number {
  let n = 0;
  for (const v of s.timeline) n += v;
  return n;
}

describe('the replay timeline under hostile timestamps', () => {
  it('two frames 10^5 s apart: at most TIMELINE_BINS bins, every frame counted, the bin width said', async () => {
    const { summary } = await replayCapture(bytesSource(pcapAt([1000, 1000 + 1e5])), defaultObjects(), DEFAULT_CLUSTER);
    expect(summary.timeline.length).toBeLessThanOrEqual(TIMELINE_BINS);
    expect(frames(summary)).toBe(2);
    expect(summary.timelineBinMs * summary.timeline.length).toBeGreaterThan(1e8);
    expect(summary.timeline.at(-1)).toBe(1);
  });

  it('a short capture keeps one-second bins', async () => {
    const { summary } = await replayCapture(bytesSource(pcapAt([5, 5.5, 7.2])), defaultObjects(), DEFAULT_CLUSTER);
    expect(summary.timelineBinMs).toBe(1000);
    expect(summary.timeline).toEqual([2, 0, 1]);
  });

  it('--report over a capture of two days (with traces): the report is written', async () => {
    const report = join(dir, 'two-days.html');
    const { summary } = await replayCapture(bytesSource(pcapAt([0, 2 * 86400])), defaultObjects(), DEFAULT_CLUSTER, { report, reportFrames: 1 });
    expect(summary.timeline.length).toBeLessThanOrEqual(TIMELINE_BINS);
    expect(readFileSync(report, 'utf8')).toContain('class="timeline"');
  });

  it('frames at t=0 and t=0xffffffff s through the CLI (--json, --out, --report) under a 300 MB heap', () => {
    const capture = join(dir, 'gap.pcap');
    writeFileSync(capture, pcapAt([0, 0xffffffff]));
    const r = spawnSync(process.execPath, ['--max-old-space-size=300', cli, 'replay', capture, '--json', '--out', join(dir, 'gap-out'), '--report', join(dir, 'gap.html')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as ReplaySummary;
    expect(summary.timeline.length).toBeLessThanOrEqual(TIMELINE_BINS);
    expect(frames(summary)).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'gap-out', 'summary.json'), 'utf8'))).toEqual(summary);
  });

  it('a pcapng simple packet block (no timestamp) before a normal packet', () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, [{ name: 'eth0' }]);
    w.write({ timestamp: 1_700_000_000n * 1_000_000_000n, data: synFrame() });
    const normal = sink.bytes();
    // SHB + IDB end where the first EPB starts: the SHB's and IDB's lengths are at offset 4 of each.
    const dv = new DataView(normal.buffer, normal.byteOffset);
    const head = dv.getUint32(4, true) + dv.getUint32(dv.getUint32(4, true) + 4, true);
    const data = synFrame(40001);
    const padded = (data.length + 3) & ~3;
    const spb = new Uint8Array(16 + padded);
    const sv = new DataView(spb.buffer);
    sv.setUint32(0, 3, true);
    sv.setUint32(4, spb.length, true);
    sv.setUint32(8, data.length, true);
    spb.set(data, 12);
    sv.setUint32(spb.length - 4, spb.length, true);
    const file = new Uint8Array(normal.length + spb.length);
    file.set(normal.subarray(0, head));
    file.set(spb, head);
    file.set(normal.subarray(head), head + spb.length);
    const capture = join(dir, 'spb.pcapng');
    writeFileSync(capture, file);
    const r = spawnSync(process.execPath, ['--max-old-space-size=300', cli, 'replay', capture, '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as ReplaySummary;
    expect(summary.framesRead).toBe(2);
    expect(summary.timeline.length).toBeLessThanOrEqual(TIMELINE_BINS);
  });

  it('a pcapng timestamp of 2^64 s (second resolution): the frame enters at the previous time, counted, --out too', async () => {
    const sink = memorySink();
    const w = new PcapngWriter(sink, [{ name: 'eth0' }]);
    w.write({ timestamp: 0n, data: synFrame() });
    w.write({ timestamp: 0xffffffffffffffffn, data: synFrame(40001) });
    const bytes = Buffer.from(sink.bytes());
    // if_tsresol (option 9, one byte): 10^-9 → 10^0, so the 64-bit count is seconds.
    const at = bytes.indexOf(Buffer.from([9, 0, 1, 0, 9]));
    expect(at).toBeGreaterThan(0);
    bytes[at + 4] = 0;
    const { summary } = await replayCapture(bytesSource(bytes), defaultObjects(), DEFAULT_CLUSTER, { outDir: join(dir, 'huge-ts') });
    expect(summary.framesRead).toBe(2);
    expect(summary.injected).toBe(2);
    expect(summary.timestampsClamped).toBe(1);
  });
});
