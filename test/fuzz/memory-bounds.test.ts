/**
 * Issue 19 item 10: memory that grew with the run. A pod's access log kept every request (400 000 GETs with
 * 1.2 KB paths → 901 MB); now the newest 1 000 entries with paths cut at 256 characters, every request counted,
 * client addresses counted up to 256 distinct. The report is written as a stream (see report.test.ts for its
 * content): no string of the whole page is built.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_LIMITS, DEFAULT_CLUSTER, defaultObjects, ExternalClient, renderReport, renderReportTo, replayCapture, SimulatedCluster } from '@vippath/cluster';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const capture = fileURLToPath(new URL('../fixtures/vip-ipv4.pcap', import.meta.url));

describe('a pod\'s access log is bounded', () => {
  it(`3 000 GETs with 1.2 KB paths: ${ACCESS_LOG_LIMITS.entries} entries kept, every request counted, paths cut`, () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const client = new ExternalClient(sim);
    const path = `/${'x'.repeat(1200)}`;
    let at = 100;
    for (let i = 0; i < 3000; i++) {
      const r = client.curl({ ip: '10.180.204.252', path }, at);
      expect(r.ok, r.error).toBe(true);
      expect(r.servedBy?.client).toMatch(/^10\.180\.204\.100:\d+$/);
      at = r.end + 1;
    }
    const served = [...sim.pods.values()].filter((p) => p.requests > 0);
    expect(served.reduce((a, p) => a + p.requests, 0)).toBe(3000);
    for (const p of served) {
      expect(p.log.length).toBeLessThanOrEqual(ACCESS_LOG_LIMITS.entries);
      expect(p.log.every((e) => e.path.length <= ACCESS_LOG_LIMITS.pathChars + 1)).toBe(true);
      expect(p.clients.get('10.180.204.100')).toBe(p.requests);
    }
  }, 120_000);
});

describe('the report as a stream', () => {
  it('renderReportTo writes the same page renderReport returns, in pieces none of which is the whole page', async () => {
    const { summary, sim, traces } = await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER, { keepTraces: true });
    const { reportTopology } = await import('@vippath/cluster');
    const input = { title: 't', topology: reportTopology(sim), summary, traces: traces! };
    const pieces: string[] = [];
    renderReportTo(input, (s) => void pieces.push(s));
    const whole = renderReport(input);
    expect(pieces.join('')).toBe(whole);
    expect(pieces.length).toBeGreaterThan(traces!.length);
    const largest = pieces.reduce((m, p) => Math.max(m, p.length), 0);
    expect(largest).toBeLessThan(whole.length / 2);
  });
});

describe('the replay\'s report spills its trace lines', () => {
  it('the page written from the spill is the page renderReport makes from the lines in memory; the spill is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vippath-spill-'));
    try {
      const report = join(dir, 'r.html');
      const { summary, sim, traces } = await replayCapture(capture, defaultObjects(), DEFAULT_CLUSTER, { report, keepTraces: true, reportFrames: 7 });
      const { reportTopology } = await import('@vippath/cluster');
      const expected = renderReport({ title: 'vippath replay', capture: 'vip-ipv4.pcap', topology: reportTopology(sim), summary, traces: traces!.slice(0, 7) });
      expect(readFileSync(report, 'utf8')).toBe(expected);
      expect(readdirSync(dir)).toEqual(['r.html']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
